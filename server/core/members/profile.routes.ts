// GET and POST /account/profile: what a resident chooses to tell neighbours, all optional, and whether the directory lists them.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { publicName } from './public-name.ts';
import { CAN_HELP_MAX, EARLIEST_YEAR, INTRO_MAX, PROFILE_LANGUAGES, checkProfile, formOf, getProfile, profileForm, saveProfile, type ProfileField, type ProfileForm } from './profiles.service.ts';

const text = { type: 'string', maxLength: 8192 } as const;
// Generous bounds: the service gives the translated, field-level messages; the schema only keeps out absurd bodies.
const profileSchema = {
  body: {
    type: 'object',
    properties: {
      languages: { type: 'array', items: { type: 'string', maxLength: 20 }, maxItems: 20 },
      can_help: text,
      new_since_month: { type: 'string', maxLength: 20 },
      new_since_year: { type: 'string', maxLength: 20 },
      intro: text,
      directory: { type: 'string', maxLength: 10 },
      _csrf: { type: 'string' },
    },
  },
} as const;

/** Month names in the reader's language for the "new since" select. */
function monthOptions(lang: string, selected: string) {
  const fmt = new Intl.DateTimeFormat(lang, { month: 'long', timeZone: 'UTC' });
  return Array.from({ length: 12 }, (_, i) => ({ value: String(i + 1), label: fmt.format(Date.UTC(2000, i, 15)), selected: String(i + 1) === selected }));
}

async function renderProfile(app: FastifyInstance, req: FastifyRequest, reply: FastifyReply, form: ProfileForm, errors: Partial<Record<ProfileField, string>> = {}, status = 200) {
  const user = req.user!;
  const address = user.address_id ? await app.db.selectFrom('addresses').select('street').where('id', '=', user.address_id).executeTakeFirst() : undefined;
  const limits = { can_help: CAN_HELP_MAX, intro: INTRO_MAX } as Record<string, number>;
  const messages = Object.fromEntries(Object.entries(errors).map(([field, key]) => [field, req.t(key, { max: limits[field], min: EARLIEST_YEAR })]));
  return reply.render(
    'views/pages/profile',
    {
      title: req.t('auth:profile.title'),
      shownAs: publicName(user, address, req.t),
      form,
      languageOptions: PROFILE_LANGUAGES.map((code) => ({ code, label: req.t(`auth:profile.language.${code}`), checked: form.languages.includes(code) })),
      months: monthOptions(req.lang, form.month),
      thisYear: new Date().getUTCFullYear(),
      earliestYear: EARLIEST_YEAR,
      canHelpMax: CAN_HELP_MAX,
      introMax: INTRO_MAX,
      errors: messages,
      hasErrors: Object.keys(messages).length > 0,
      saved: (req.query as { saved?: string }).saved === '1' && !Object.keys(messages).length,
      member: req.memberships.find((m) => m.verified),
    },
    status,
  );
}

export default async function profileRoutes(app: FastifyInstance) {
  app.get('/account/profile', { config: { access: 'authenticated' } }, async (req, reply) => {
    return renderProfile(app, req, reply, formOf(await getProfile(app.db, req.user!.id)));
  });

  app.post('/account/profile', { schema: profileSchema, config: { access: 'authenticated', rateLimit: { max: 30, timeWindow: 60_000 } } }, async (req, reply) => {
    const form = profileForm(req.body);
    const checked = checkProfile(form);
    // Everything typed comes back, each problem next to its field.
    if ('errors' in checked) return renderProfile(app, req, reply, form, checked.errors, 400);
    await saveProfile(app.db, req.user!.id, checked.values);
    return reply.redirect('/account/profile?saved=1', 303);
  });
}
