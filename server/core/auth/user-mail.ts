// What an e-mail to one resident needs: a translator in their language (their setting, else the one they used, else the commune's) and the commune's name.
import type { FastifyInstance } from 'fastify';
import type { User } from '../../db/database.ts';
import { isLang } from '../../infra/i18n.ts';
import { getSetting } from '../settings/settings.repository.ts';

export async function mailContext(app: FastifyInstance, user: Pick<User, 'lang'>, requestLang: unknown) {
  const lang = isLang(user.lang) ? user.lang : isLang(requestLang) ? requestLang : app.config.defaultLang;
  const t = app.i18n.getFixedT(lang, 'auth');
  const commune = (await getSetting<string>(app.db, 'commune.name')) ?? app.config.communeName;
  return { lang, t, commune };
}
