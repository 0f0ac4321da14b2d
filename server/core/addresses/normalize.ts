// Text forms for matching addresses the way people type them: no case, no accents, `L-4131` = `4131`.

/** Lower case, accents and apostrophes gone, punctuation to spaces: `Rue de l'Église` -> `rue de l eglise`. */
export function searchKey(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/ß/g, 'ss')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

/** `L-4131`, `l 4131`, ` 4131 ` -> `4131`; undefined when it is not a Luxembourg postcode. */
export function normalizePostcode(raw: string): string | undefined {
  const m = /^\s*(?:l\s*-?\s*)?(\d{4})\s*$/i.exec(raw);
  return m ? m[1] : undefined;
}

/** The words of a search query, postcodes without their `L-`. */
export function queryTerms(q: string): string[] {
  const cleaned = q.replace(/\bl\s*-\s*(\d{4})\b/gi, '$1');
  return searchKey(cleaned).split(' ').filter(Boolean).slice(0, 8);
}

/** Sorts house numbers as people expect: 2 < 8 < 8A < 10 < 12-14. */
export function numberSortKey(number: string): number {
  const m = /^(\d+)/.exec(number.trim());
  return m ? Number(m[1]) : 0;
}

/** How an address is written on a letter or a list. */
export function formatAddress(a: { street: string; number: string; postcode: string; locality: string }): string {
  return `${a.number ? `${a.number}, ` : ''}${a.street}, ${a.postcode ? `L-${a.postcode} ` : ''}${a.locality}`;
}
