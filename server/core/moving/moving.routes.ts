// GET and POST /account/address: a resident who moved picks the new address (the registration's search), optionally with its letter code.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Address } from '../../db/database.ts';
import { addressPicker, type AddressPicker } from '../addresses/address-search.ts';
import { formatAddress } from '../addresses/normalize.ts';
import { methodOn } from '../verification/verification-settings.ts';
import { moveHouse } from './moving.service.ts';

const str = { type: 'string', maxLength: 4096 } as const;
const pageSchema = { querystring: { type: 'object', properties: { q: { type: 'string', maxLength: 1000 } } } } as const;
const moveSchema = { body: { type: 'object', properties: { address_id: str, code: str, _csrf: str } } } as const;

interface FormState {
  picker: AddressPicker;
  q: string;
  code: string;
  errors: Partial<Record<'address_id' | 'code', string>>;
}

export default async function movingRoutes(app: FastifyInstance) {
  async function renderPage(req: FastifyRequest, reply: FastifyReply, state: FormState, status?: number) {
    const user = req.user!;
    const current = user.address_id ? await app.db.selectFrom('addresses').selectAll().where('id', '=', user.address_id).executeTakeFirst() : undefined;
    const home = req.memberships[0];
    const errors = Object.fromEntries(Object.entries(state.errors).map(([field, key]) => [field, req.t(key)]));
    return reply.render(
      'views/pages/account-address',
      {
        title: req.t('auth:moving.title'),
        current: current ? formatAddress(current) : undefined,
        neighborhood: home?.name,
        verified: home?.verified ?? false,
        letterOn: await methodOn(app.db, 'letter'),
        picker: state.picker,
        q: state.q,
        code: state.code,
        errors,
        hasErrors: Object.keys(errors).length > 0,
      },
      status,
    );
  }

  /** After a refused form: the address picked stays picked. */
  const picked = (req: FastifyRequest, address: Address | undefined): AddressPicker =>
    address ? { message: undefined, results: [{ id: address.id, label: formatAddress(address), checked: true }] } : { message: req.t('auth:addresses.typeMore'), results: [] };

  app.get('/account/address', { schema: pageSchema, config: { access: 'authenticated', rateLimit: { max: 60, timeWindow: 60_000 } } }, async (req, reply) => {
    const q = (req.query as { q?: string }).q ?? '';
    return renderPage(req, reply, { picker: await addressPicker(app.db, req, q), q, code: '', errors: {} });
  });

  app.post(
    '/account/address',
    // Per client address, like code entry; the wrong codes of an account are limited in the service.
    { schema: moveSchema, config: { access: 'authenticated', rateLimit: { max: 10, timeWindow: 10 * 60_000 } } },
    async (req, reply) => {
      const body = (req.body ?? {}) as { address_id?: string; code?: string };
      const outcome = await moveHouse(app, { userId: req.user!.id, addressId: body.address_id ?? '', code: body.code ?? '' });
      if (outcome.kind === 'invalid') return renderPage(req, reply, { picker: picked(req, outcome.address), q: '', code: body.code ?? '', errors: outcome.errors }, 400);
      // / shows the new board when the code verified the move, else the status page of the new address.
      return reply.redirect('/', 303);
    },
  );
}
