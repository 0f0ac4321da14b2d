// A resident's optional profile: reading the form, checking it field by field, and the values a page shows.
import type { DbOrTrx, Profile } from '../../db/database.ts';

export const PROFILE_LANGUAGES = ['lb', 'fr', 'de', 'en', 'pt', 'it', 'other'] as const;
export type ProfileLanguage = (typeof PROFILE_LANGUAGES)[number];

export const CAN_HELP_MAX = 200;
export const INTRO_MAX = 500;
export const EARLIEST_YEAR = 1900;

export type ProfileField = 'languages' | 'can_help' | 'new_since' | 'intro';

/** The form as typed (strings), so a refused form comes back exactly as it was sent. */
export interface ProfileForm {
  languages: ProfileLanguage[];
  canHelp: string;
  month: string;
  year: string;
  intro: string;
  directory: boolean;
}

/** What is stored: plain text as given (trimmed), null for anything left empty. */
export interface ProfileValues {
  languages: ProfileLanguage[];
  canHelp: string | null;
  newSince: string | null; // YYYY-MM
  intro: string | null;
  directory: boolean;
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const isLanguage = (v: unknown): v is ProfileLanguage => typeof v === 'string' && (PROFILE_LANGUAGES as readonly string[]).includes(v);

/** Only these fields of a submitted form are read; anything else in the body is ignored. */
export function profileForm(body: unknown): ProfileForm {
  const b = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  const langs = [b.languages].flat().filter(isLanguage);
  return {
    // In the list's order, each once, whatever order or repetition the form sent.
    languages: PROFILE_LANGUAGES.filter((l) => langs.includes(l)),
    canHelp: str(b.can_help),
    month: str(b.new_since_month).trim(),
    year: str(b.new_since_year).trim(),
    intro: str(b.intro).replace(/\r\n?/g, '\n'),
    directory: b.directory === '1' || b.directory === 'on' || b.directory === 'true',
  };
}

/** The form of a stored profile (or an empty one). */
export function formOf(profile: Profile | undefined): ProfileForm {
  const [year = '', month = ''] = profile?.new_since?.split('-') ?? [];
  return {
    languages: parseLanguages(profile?.languages ?? null),
    canHelp: profile?.can_help ?? '',
    month: month ? String(Number(month)) : '',
    year,
    intro: profile?.intro ?? '',
    directory: profile?.directory_at !== null && profile?.directory_at !== undefined,
  };
}

export function parseLanguages(json: string | null): ProfileLanguage[] {
  if (!json) return [];
  try {
    const v: unknown = JSON.parse(json);
    return Array.isArray(v) ? PROFILE_LANGUAGES.filter((l) => v.includes(l)) : [];
  } catch {
    return [];
  }
}

const length = (s: string) => [...s].length;
// Control characters (line breaks only where the field has lines) and bidi overrides, which can disguise text.
const CONTROL_ONE_LINE = /[\p{Cc}\u202A-\u202E]/u;
const CONTROL_LINES = /[\u0000-\u0009\u000B-\u001F\u007F-\u009F\u202A-\u202E]/u;

/** Checks every field; returns the values to store, or each problem as a message key (auth namespace) per field. */
export function checkProfile(form: ProfileForm, now = new Date()): { values: ProfileValues } | { errors: Partial<Record<ProfileField, string>> } {
  const errors: Partial<Record<ProfileField, string>> = {};
  const canHelp = form.canHelp.trim();
  if (length(canHelp) > CAN_HELP_MAX) errors.can_help = 'auth:profile.error.canHelpTooLong';
  else if (CONTROL_ONE_LINE.test(canHelp)) errors.can_help = 'auth:profile.error.invisible';
  const intro = form.intro.trim();
  if (length(intro) > INTRO_MAX) errors.intro = 'auth:profile.error.introTooLong';
  else if (CONTROL_LINES.test(intro)) errors.intro = 'auth:profile.error.invisible';

  let newSince: string | null = null;
  if (form.month || form.year) {
    const month = /^\d{1,2}$/.test(form.month) ? Number(form.month) : NaN;
    const year = /^\d{4}$/.test(form.year) ? Number(form.year) : NaN;
    if (!form.month || !form.year) errors.new_since = 'auth:profile.error.sinceIncomplete';
    else if (!(month >= 1 && month <= 12) || !(year >= EARLIEST_YEAR)) errors.new_since = 'auth:profile.error.sinceInvalid';
    else if (year > now.getUTCFullYear() || (year === now.getUTCFullYear() && month > now.getUTCMonth() + 1)) errors.new_since = 'auth:profile.error.sinceFuture';
    else newSince = `${year}-${String(month).padStart(2, '0')}`;
  }
  if (Object.keys(errors).length) return { errors };
  return { values: { languages: form.languages, canHelp: canHelp || null, newSince, intro: intro || null, directory: form.directory } };
}

export function getProfile(db: DbOrTrx, userId: string): Promise<Profile | undefined> {
  return db.selectFrom('profiles').selectAll().where('user_id', '=', userId).executeTakeFirst();
}

/** Stores the profile; opting in keeps its first date, opting out clears it. */
export async function saveProfile(db: DbOrTrx, userId: string, v: ProfileValues, now = Date.now()): Promise<void> {
  const existing = await getProfile(db, userId);
  const row = {
    languages: v.languages.length ? JSON.stringify(v.languages) : null,
    can_help: v.canHelp,
    new_since: v.newSince,
    intro: v.intro,
    directory_at: v.directory ? (existing?.directory_at ?? now) : null,
    updated_at: now,
  };
  await db
    .insertInto('profiles')
    .values({ user_id: userId, ...row })
    .onConflict((oc) => oc.column('user_id').doUpdateSet(row))
    .execute();
}
