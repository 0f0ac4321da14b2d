// How residents appear to each other: first name, initial of the surname, street without house number ("Anouk T., Rue de l'Alzette").

/**
 * Stored in users.name when a resident erased their account. Registration refuses zero-width spaces in names
 * (auth.service nameProblem), so no real name can ever equal it; pages show a translated "former neighbour".
 */
export const FORMER_NEIGHBOUR = '\u200Bformer-neighbour';

/** The key pages translate the marker with. */
export const FORMER_NEIGHBOUR_KEY = 'board:directory.formerNeighbour';

/** Longest first name shown, in user-perceived characters; the rest becomes "…". */
const FIRST_NAME_MAX = 24;

/** Generational suffixes: "Jean Schmit Jr." is "Jean S.", not "Jean J.". */
const SUFFIXES = new Set(['jr', 'jr.', 'sr', 'sr.', 'ii', 'iii', 'iv', 'junior', 'senior']);

const segmenter = new Intl.Segmenter('und', { granularity: 'grapheme' });
const graphemes = (s: string): string[] => Array.from(segmenter.segment(s), (g) => g.segment);
const hasLetter = (s: string) => /\p{L}/u.test(s);
/** Emoji (with their joiners and variation selectors) are decoration, not part of a name. */
const withoutEmoji = (s: string) => s.replace(/[\p{Extended_Pictographic}\u200D\uFE0E\uFE0F\u{1F3FB}-\u{1F3FF}]/gu, '');
const words = (s: string) => s.split(' ').map(withoutEmoji).filter(hasLetter);

export function isFormerNeighbour(member: { name: string; deleted_at?: number | null }): boolean {
  return member.name === FORMER_NEIGHBOUR || (member.deleted_at !== undefined && member.deleted_at !== null);
}

function shorten(word: string, max: number): string {
  const g = graphemes(word);
  return g.length > max ? `${g.slice(0, max - 1).join('')}…` : word;
}

/** The first letter of a surname word, upper-cased, accents kept ("Élise" -> "É", "d'Huart" -> "H", "O'Brien" -> "O"). */
function initialOf(word: string): string | undefined {
  // An elided French particle belongs to the name, not its initial; "O'" and "Mc" are part of it.
  const core = word.replace(/^[dl][’']/u, '');
  const first = graphemes(core).find(hasLetter);
  if (!first) return undefined;
  // One grapheme: "ß" would upper-case to "SS", a decomposed "É" keeps its accent.
  const upper = first.toLocaleUpperCase();
  return graphemes(upper).length === 1 ? upper : first;
}

/** First name and surname words of a name as typed; "Thill, Anouk" is read as surname first. */
function split(name: string): { first: string | undefined; surname: string[] } {
  const clean = name.normalize('NFC').replace(/\s+/gu, ' ').trim();
  const comma = clean.indexOf(',');
  if (comma > 0) {
    const before = words(clean.slice(0, comma));
    const after = words(clean.slice(comma + 1));
    if (before.length && after.length) return { first: after[0], surname: before };
  }
  const all = words(clean.replace(/,/g, ' '));
  return { first: all[0], surname: all.slice(1) };
}

/**
 * The name neighbours see: first name + initial of the last word of the surname (particles like "van der" or
 * "de" come before it and so drop out) + the street without a house number. A one-word name shows as typed;
 * a name without any letter shows its first word. Plain text: the caller's template escapes it.
 * With `t`, an erased account reads "former neighbour" in the reader's language; without, the marker comes back.
 */
export function publicName(
  member: { name: string; deleted_at?: number | null },
  address?: { street?: string | null } | null,
  t?: (key: string) => string,
): string {
  if (isFormerNeighbour(member)) return t ? t(FORMER_NEIGHBOUR_KEY) : FORMER_NEIGHBOUR;
  const { first, surname } = split(member.name ?? '');
  let who: string;
  if (!first) {
    who = shorten(member.name.trim().split(/\s+/u)[0] ?? '', FIRST_NAME_MAX);
  } else {
    while (surname.length > 1 && SUFFIXES.has(surname[surname.length - 1]!.toLowerCase())) surname.pop();
    const last = surname[surname.length - 1];
    const initial = last ? initialOf(last) : undefined;
    who = shorten(first, FIRST_NAME_MAX) + (initial ? ` ${initial}.` : '');
  }
  const street = address?.street?.replace(/\s+/gu, ' ').trim();
  return street ? `${who}, ${street}` : who;
}
