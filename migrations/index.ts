// The core migrations in order; frozen: a released migration is never edited, only followed by a new one.
import type { Migration } from 'kysely';
import * as m01 from './2026120301_settings.ts';
import * as m02 from './2026120302_users.ts';
import * as m03 from './2026120303_sessions.ts';
import * as m04 from './2026120304_neighborhoods.ts';
import * as m05 from './2026120305_feature_state.ts';
import * as m06 from './2026120306_jobs.ts';
import * as m07 from './2026120307_rate_limits.ts';
import * as m08 from './2026120308_audit_log.ts';
import * as m09 from './2026120309_addresses.ts';
import * as m10 from './2026120310_neighborhood_areas.ts';
import * as m11 from './2026120311_residents.ts';
import * as m12 from './2026120312_letter_codes.ts';
import * as m13 from './2026120313_password_resets.ts';
import * as m14 from './2026120314_session_details.ts';
import * as m15 from './2026120315_vouches.ts';
import * as m16 from './2026120316_profiles.ts';

export const coreMigrations: Record<string, Migration> = {
  '2026120301_settings': m01,
  '2026120302_users': m02,
  '2026120303_sessions': m03,
  '2026120304_neighborhoods': m04,
  '2026120305_feature_state': m05,
  '2026120306_jobs': m06,
  '2026120307_rate_limits': m07,
  '2026120308_audit_log': m08,
  '2026120309_addresses': m09,
  '2026120310_neighborhood_areas': m10,
  '2026120311_residents': m11,
  '2026120312_letter_codes': m12,
  '2026120313_password_resets': m13,
  '2026120314_session_details': m14,
  '2026120315_vouches': m15,
  '2026120316_profiles': m16,
};
