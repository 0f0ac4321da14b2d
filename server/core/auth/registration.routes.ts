// GET and POST /register: a resident creates an account at their address, optionally with the code from their letter.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Address } from '../../db/database.ts';
import { ANON_COOKIE } from '../../infra/session.ts';
import { addressPicker, type AddressPicker } from '../addresses/address-search.ts';
import { formatAddress } from '../addresses/normalize.ts';
import { mailContext } from './user-mail.ts';
import { methodOn } from '../verification/verification-settings.ts';
import { registerResident, registrationInput, type RegistrationField, type RegistrationInput } from './registration.service.ts';
import { findUserById } from './users.repository.ts';

export const ATTEMPT_MAIL_JOB = 'auth.registration-attempt-mail';
const DAY = 86_400_000;

const str = { type: 'string', maxLength: 4096 } as const;
// Generous bounds: the service gives the translated, field-level messages; the schema only keeps out absurd bodies.
const registerSchema = {
  body: {
    type: 'object',
    properties: { name: str, email: str, password: str, address_id: str, code: str, _csrf: str },
  },
} as const;

interface FormState {
  values: Partial<Pick<RegistrationInput, 'name' | 'email' | 'code'>>;
  errors: Partial<Record<RegistrationField, string>>;
  picker: AddressPicker;
  q: string;
  /** the commune verifies by letter: the code field is shown */
  letterOn: boolean;
}

function renderRegister(req: FastifyRequest, reply: FastifyReply, state: FormState, status = 200) {
  const errors = Object.fromEntries(Object.entries(state.errors).map(([field, key]) => [field, req.t(key)]));
  return reply.render(
    'views/pages/register',
    { title: req.t('auth:register.title'), values: state.values, errors, hasErrors: Object.keys(errors).length > 0, picker: state.picker, q: state.q, letterOn: state.letterOn },
    status,
  );
}

/** After a refused form: the address picked stays picked (search again to change it). */
function pickedAddress(req: FastifyRequest, address: Address | undefined): AddressPicker {
  if (!address) return { message: req.t('auth:addresses.typeMore'), results: [] };
  return { message: undefined, results: [{ id: address.id, label: formatAddress(address), checked: true }] };
}

export default async function registrationRoutes(app: FastifyInstance) {
  // The owner of an e-mail address someone tried to register again hears of it, at most once a day, in their language.
  app.jobs.define(ATTEMPT_MAIL_JOB, async (payload: { userId: string; lang?: string }) => {
    const user = await findUserById(app.db, payload.userId);
    if (!user || user.disabled_at !== null) return;
    const { t, commune } = await mailContext(app, user, payload.lang);
    await app.mail.send({
      to: user.email,
      subject: t('mail.registrationAttempt.subject', { commune }),
      text: t('mail.registrationAttempt.text', { name: user.name, commune, loginUrl: `${app.config.baseUrl}/login` }),
    });
  });

  app.get(
    '/register',
    { schema: { querystring: { type: 'object', properties: { q: { type: 'string', maxLength: 1000 } } } }, config: { access: 'public', rateLimit: { max: 60, timeWindow: 60_000 } } },
    async (req, reply) => {
      if (req.user) return reply.redirect('/', 303);
      const q = (req.query as { q?: string }).q ?? '';
      const picker = await addressPicker(app.db, req, q);
      return renderRegister(req, reply, { values: {}, errors: {}, picker, q, letterOn: await methodOn(app.db, 'letter') });
    },
  );

  app.post(
    '/register',
    { schema: registerSchema, config: { access: 'public', rateLimit: { max: 10, timeWindow: 10 * 60_000 } } },
    async (req, reply) => {
      const input = registrationInput(req.body);
      const outcome = await registerResident(app.db, app.bus, input);
      if (outcome.kind === 'invalid') {
        // Everything typed comes back except the password.
        const values = { name: input.name, email: input.email, code: input.code };
        return renderRegister(req, reply, { values, errors: outcome.errors, picker: pickedAddress(req, outcome.address), q: '', letterOn: await methodOn(app.db, 'letter') }, 400);
      }
      if (outcome.kind === 'exists') {
        // Same answer as a new account; nothing is created and the owner is told by e-mail.
        const now = Date.now();
        await app.jobs.schedule(ATTEMPT_MAIL_JOB, { userId: outcome.existing.id, lang: req.lang }, { key: `registration-attempt:${outcome.existing.id}:${Math.floor(now / DAY)}` });
        if (req.session) await app.endSession(req, reply);
        reply.clearCookie(ANON_COOKIE, { path: '/' });
        return reply.redirect('/login?done=registered', 303);
      }
      // Exactly the same answer as above: no session either way (a cookie set only for new accounts would tell
      // whether an e-mail address is registered). The new resident logs in with what she just chose.
      if (req.session) await app.endSession(req, reply);
      reply.clearCookie(ANON_COOKIE, { path: '/' });
      return reply.redirect('/login?done=registered', 303);
    },
  );
}
