// The neighbour directory: verified members of one neighbourhood who chose to be listed, with what they chose to show.
import type { DbOrTrx } from '../../db/database.ts';
import { publicName } from './public-name.ts';
import { parseLanguages, type ProfileLanguage } from './profiles.service.ts';

export interface DirectoryEntry {
  userId: string;
  name: string;
  languages: ProfileLanguage[];
  canHelp: string | null;
  newSince: string | null;
  intro: string | null;
}

/**
 * Only the columns a neighbour may see are read: never the e-mail, the house number or a full name, and
 * nothing at all of members who did not opt in, who are not verified here, or whose account is closed.
 */
export async function listDirectory(db: DbOrTrx, neighborhoodId: string, lang: string): Promise<DirectoryEntry[]> {
  const rows = await db
    .selectFrom('memberships')
    .innerJoin('users', 'users.id', 'memberships.user_id')
    .innerJoin('profiles', 'profiles.user_id', 'users.id')
    .leftJoin('addresses', 'addresses.id', 'users.address_id')
    .select(['users.id', 'users.name', 'addresses.street', 'profiles.languages', 'profiles.can_help', 'profiles.new_since', 'profiles.intro'])
    .where('memberships.neighborhood_id', '=', neighborhoodId)
    .where('memberships.verified_at', 'is not', null)
    .where('profiles.directory_at', 'is not', null)
    .where('users.disabled_at', 'is', null)
    .where('users.deleted_at', 'is', null)
    .execute();
  const collator = new Intl.Collator(lang, { sensitivity: 'base' });
  return rows
    .map((r) => ({
      userId: r.id,
      name: publicName({ name: r.name }, { street: r.street }),
      languages: parseLanguages(r.languages),
      canHelp: r.can_help,
      newSince: r.new_since,
      intro: r.intro,
    }))
    .sort((a, b) => collator.compare(a.name, b.name));
}
