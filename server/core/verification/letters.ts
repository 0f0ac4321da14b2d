// The verification letters of a neighbourhood: a print-ready A4 HTML document in the commune's four languages, or CSV for a mail merge.
import fs from 'node:fs/promises';
import { LANGUAGES, type Config, type Lang } from '../../config.ts';
import type { Db } from '../../db/database.ts';
import { OperatorError } from '../../errors.ts';
import { createI18n, type I18n } from '../../infra/i18n.ts';
import { getSetting } from '../settings/settings.repository.ts';
import { issueCodes, type IssuedLetter } from './letter-codes.service.ts';

export const CSV_HEADER = ['address_id', 'street', 'number', 'postcode', 'locality', 'code'] as const;

/** One CSV field as RFC 4180 wants it: quoted when it holds a comma, a quote or a line break; quotes doubled. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** The letters as CSV with CRLF line ends: address_id,street,number,postcode,locality,code. */
export function lettersCsv(letters: readonly IssuedLetter[]): string {
  const rows: string[][] = [[...CSV_HEADER]];
  for (const { address: a, code } of letters) rows.push([a.id, a.street, a.number, a.postcode, a.locality, code]);
  return rows.map((r) => r.map(csvField).join(',')).join('\r\n') + '\r\n';
}

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export interface LetterContext {
  communeName: string;
  neighborhoodName: string;
  baseUrl: string;
  timeZone: string;
  /** the language of the address block and of the document's title */
  defaultLang: Lang;
  i18n: I18n;
}

// A standalone document for printing (never served under the app's CSP), so its style travels inside it.
const STYLE = `
@page { size: A4 portrait; margin: 14mm 16mm; }
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { margin: 0; font-family: "Noto Sans", "DejaVu Sans", Arial, Helvetica, sans-serif; font-size: 9.5pt; line-height: 1.38; color: #111; }
.letter { break-after: page; page-break-after: always; break-inside: avoid; }
.letter:last-child { break-after: auto; page-break-after: auto; }
.head { display: flex; justify-content: space-between; align-items: baseline; border-bottom: 1px solid #999; padding-bottom: 2mm; font-size: 9pt; }
.head strong { font-size: 12pt; }
.address { margin: 14mm 0 10mm 4mm; min-height: 28mm; font-size: 11.5pt; line-height: 1.4; font-style: normal; }
.address .to { font-size: 9.5pt; color: #333; }
.codebox { border: 0.6mm solid #111; border-radius: 3mm; padding: 4mm 5mm; margin: 0 0 7mm; text-align: center; }
.codebox .label { font-size: 9pt; margin: 0 0 1mm; }
.codebox .code { font-family: "DejaVu Sans Mono", "Noto Sans Mono", Consolas, "Courier New", monospace; font-size: 28pt; font-weight: 700; letter-spacing: 0.06em; margin: 0; white-space: nowrap; }
.codebox .url { font-size: 12pt; margin: 2mm 0 0; font-weight: 600; }
.langs { display: grid; grid-template-columns: 1fr 1fr; gap: 6mm 9mm; }
.lang h2 { font-size: 11pt; margin: 0 0 1.5mm; }
.lang p { margin: 0 0 1.5mm; }
.lang ol { margin: 0 0 1.5mm; padding-left: 5mm; }
.lang li { margin-bottom: 0.8mm; }
.lang .note { font-size: 8.5pt; color: #333; }
@media screen {
  body { background: #e6e6e6; }
  .letter { width: 210mm; min-height: 297mm; margin: 8mm auto; padding: 14mm 16mm; background: #fff; box-shadow: 0 1mm 3mm rgba(0, 0, 0, 0.25); }
}
`;

function languageBlock(letter: IssuedLetter, lang: Lang, ctx: LetterContext): string {
  const t = ctx.i18n.getFixedT(lang, 'auth');
  const date = new Intl.DateTimeFormat(lang, { dateStyle: 'long', timeZone: ctx.timeZone }).format(letter.expiresAt);
  const url = `${ctx.baseUrl}/register`;
  const line = (key: string, opts: Record<string, unknown> = {}) => escapeHtml(String(t(key, opts)));
  return `<section class="lang" lang="${lang}">
<h2>${line('letter.language')}</h2>
<p>${line('letter.intro', { commune: ctx.communeName, neighborhood: ctx.neighborhoodName })}</p>
<ol>
<li>${line('letter.step1', { url })}</li>
<li>${line('letter.step2')}</li>
<li>${line('letter.step3')}</li>
</ol>
<p>${line('letter.uses', { count: letter.maxUses })} ${line('letter.expires', { date })}</p>
<p class="note">${line('letter.private')}</p>
</section>`;
}

function letterPage(letter: IssuedLetter, ctx: LetterContext): string {
  const a = letter.address;
  const t = ctx.i18n.getFixedT(ctx.defaultLang, 'auth');
  const street = [a.number, a.street].filter(Boolean).join(', ');
  const codeLabel = LANGUAGES.map((l) => escapeHtml(String(ctx.i18n.getFixedT(l, 'auth')('letter.codeLabel')))).join(' · ');
  return `<article class="letter">
<header class="head"><strong>${escapeHtml(ctx.communeName)}</strong><span>Noper · ${escapeHtml(ctx.neighborhoodName)}</span></header>
<address class="address">
<span class="to">${escapeHtml(String(t('letter.recipient')))}</span><br>
${a.designation ? `${escapeHtml(a.designation)}<br>\n` : ''}${escapeHtml(street)}<br>
L-${escapeHtml(a.postcode)} ${escapeHtml(a.locality)}
</address>
<div class="codebox">
<p class="label">${codeLabel}</p>
<p class="code">${escapeHtml(letter.code)}</p>
<p class="url">${escapeHtml(ctx.baseUrl)}/register</p>
</div>
<div class="langs">
${LANGUAGES.map((l) => languageBlock(letter, l, ctx)).join('\n')}
</div>
</article>`;
}

/** The printable document: one A4 page per address, nothing loaded from outside. */
export function lettersHtml(letters: readonly IssuedLetter[], ctx: LetterContext): string {
  const t = ctx.i18n.getFixedT(ctx.defaultLang, 'auth');
  return `<!doctype html>
<html lang="${ctx.defaultLang}">
<head>
<meta charset="utf-8">
<title>${escapeHtml(String(t('letter.documentTitle', { neighborhood: ctx.neighborhoodName })))}</title>
<style>${STYLE}</style>
</head>
<body>
${letters.map((l) => letterPage(l, ctx)).join('\n')}
</body>
</html>
`;
}

export type LetterFormat = 'html' | 'csv';

/** The output format named by a file's extension. */
export function formatOf(file: string): LetterFormat | undefined {
  if (/\.html?$/i.test(file)) return 'html';
  if (/\.csv$/i.test(file)) return 'csv';
  return undefined;
}

export interface WriteLettersOptions {
  slug: string;
  out: string;
  format: LetterFormat;
  maxUses?: number;
  validityDays?: number;
}

/** `noper letters`: issues fresh codes for every address of the neighbourhood and writes the letters; returns how many. */
export async function writeLetters(db: Db, config: Config, opts: WriteLettersOptions): Promise<number> {
  const n = await db.selectFrom('neighborhoods').select(['id', 'name']).where('slug', '=', opts.slug).executeTakeFirst();
  if (!n) throw new OperatorError(`No neighbourhood "${opts.slug}".`, { help: 'see noper neighborhoods list' });
  // Opened before the codes are issued: an unwritable path must not revoke the codes of letters already sent.
  let file: fs.FileHandle;
  try {
    file = await fs.open(opts.out, 'w');
  } catch (err) {
    throw new OperatorError(`Cannot write ${opts.out}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}.`, { help: 'check that the folder exists and is writable' });
  }
  try {
    const letters = await issueCodes(db, { neighborhoodId: n.id, maxUses: opts.maxUses, validityDays: opts.validityDays });
    const communeName = (await getSetting<string>(db, 'commune.name')) ?? config.communeName;
    const text =
      opts.format === 'csv'
        ? lettersCsv(letters)
        : lettersHtml(letters, {
            communeName,
            neighborhoodName: n.name,
            baseUrl: config.baseUrl,
            timeZone: config.tzCommune,
            defaultLang: config.defaultLang,
            i18n: await createI18n(),
          });
    await file.writeFile(text, 'utf8');
    return letters.length;
  } finally {
    await file.close();
  }
}
