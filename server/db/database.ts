// The core tables' types; each plugin declares its own tables through plugin-api's Kysely<any>.
import type { Generated, Insertable, Kysely, Selectable, Transaction, Updateable } from 'kysely';

export interface SettingsTable {
  key: string;
  value: string; // JSON
  updated_at: number;
}

export type Role = 'resident' | 'admin';

export interface UsersTable {
  id: string;
  email: string; // stored lower-cased
  name: string;
  password_hash: string;
  role: Role;
  lang: string | null;
  created_at: number;
  disabled_at: number | null;
  address_id: Generated<string | null>;
  review_reason: Generated<string | null>;
  /** the account was erased at the resident's request: name is a marker, e-mail and password unusable */
  deleted_at: Generated<number | null>;
}

export interface SessionsTable {
  id: string;
  secret_hash: string; // hex SHA-256 of the secret half of the token
  user_id: string;
  created_at: number;
  last_seen_at: number;
  /** short names recognised in the User-Agent (e.g. Firefox, Android); the raw header is never kept */
  browser: Generated<string | null>;
  os: Generated<string | null>;
}

/** A password reset link: token "id.secret", hex SHA-256 of the secret stored; one use, short lifetime. */
export interface PasswordResetsTable {
  id: string;
  secret_hash: string;
  user_id: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

export interface NeighborhoodsTable {
  id: string;
  slug: string;
  name: string;
  created_at: number;
  geometry: Generated<string | null>; // GeoJSON
  bbox: Generated<string | null>; // JSON [minLon, minLat, maxLon, maxLat]
  rules: Generated<string | null>; // JSON NeighborhoodRules
  source_name: Generated<string | null>;
}

export interface NeighborhoodLinksTable {
  a_id: string;
  b_id: string;
  kind: 'computed' | 'added' | 'removed';
}

export interface AddressesTable {
  id: string;
  source: 'caclr' | 'generic';
  external_id: string;
  street: string;
  number: string;
  number_sort: number;
  postcode: string;
  locality: string;
  commune: string | null;
  designation: string | null;
  lon: number | null;
  lat: number | null;
  point_kind: 'exact' | 'approximate' | null;
  search_key: string;
  neighborhood_id: string | null;
  assigned_by: 'point' | 'rule' | 'manual' | null;
  review: 'unassigned' | 'ambiguous' | null;
  candidates: string | null;
  retired_at: number | null;
  created_at: number;
  updated_at: number;
}

export interface LetterCodesTable {
  id: string;
  address_id: string;
  code_hash: string;
  max_uses: number;
  uses: Generated<number>;
  expires_at: number;
  revoked_at: number | null;
  created_at: number;
}

export type MembershipRole = 'member' | 'moderator';

export interface MembershipsTable {
  user_id: string;
  neighborhood_id: string;
  role: MembershipRole;
  verified_at: number | null;
  created_at: number;
  verified_by: Generated<'letter' | 'vouch' | 'counter' | null>;
  verified_note: Generated<string | null>;
}

/** A verified neighbour confirming that a waiting resident lives at their address. */
export interface VouchesTable {
  user_id: string;
  neighborhood_id: string;
  voucher_id: string;
  created_at: number;
}

export interface FeatureStateTable {
  feature_id: string;
  /** 'commune' for the commune-wide switch, else a neighbourhood id */
  scope: string;
  enabled: number; // 0 | 1
  settings: string | null; // JSON
  updated_at: number;
  updated_by: string | null;
}

export interface JobsTable {
  id: string;
  name: string;
  payload: string; // JSON
  run_at: number;
  idempotency_key: string | null;
  attempts: Generated<number>;
  max_attempts: Generated<number>;
  last_error: string | null;
  locked_by: string | null;
  locked_until: number | null;
  done_at: number | null;
  failed_at: number | null;
  created_at: number;
}

export interface RateLimitsTable {
  key: string;
  count: number;
  reset_at: number;
}

export interface AuditLogTable {
  id: string;
  at: number;
  actor_id: string | null;
  action: string;
  subject: string | null;
  detail: string | null; // JSON
}

/** What a resident chooses to tell neighbours; every field optional. */
export interface ProfilesTable {
  user_id: string;
  languages: string | null; // JSON array of codes
  can_help: string | null;
  new_since: string | null; // YYYY-MM
  intro: string | null;
  directory_at: number | null; // listed in the neighbour directory since; null: not listed
  updated_at: number;
}

export interface Database {
  settings: SettingsTable;
  users: UsersTable;
  sessions: SessionsTable;
  neighborhoods: NeighborhoodsTable;
  memberships: MembershipsTable;
  feature_state: FeatureStateTable;
  jobs: JobsTable;
  rate_limits: RateLimitsTable;
  audit_log: AuditLogTable;
  addresses: AddressesTable;
  neighborhood_links: NeighborhoodLinksTable;
  letter_codes: LetterCodesTable;
  password_resets: PasswordResetsTable;
  vouches: VouchesTable;
  profiles: ProfilesTable;
}

export type Db = Kysely<Database>;
export type Trx = Transaction<Database>;
/** Repository functions take either the database or a transaction first. */
export type DbOrTrx = Db | Trx;

export type User = Selectable<UsersTable>;
export type NewUser = Insertable<UsersTable>;
export type UserUpdate = Updateable<UsersTable>;
export type Session = Selectable<SessionsTable>;
export type Neighborhood = Selectable<NeighborhoodsTable>;
export type Membership = Selectable<MembershipsTable>;
export type Job = Selectable<JobsTable>;
export type Address = Selectable<AddressesTable>;
export type NewAddress = Insertable<AddressesTable>;
export type Profile = Selectable<ProfilesTable>;
