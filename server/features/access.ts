// Access levels every route declares, and the check the central hook and the plugin guards share.
import type { FastifyRequest } from 'fastify';
import { OperatorError } from '../errors.ts';
import { ACCESS_LEVELS, type AccessLevel } from './manifest.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route; a route without one makes the server refuse to start. */
    access?: AccessLevel;
    /** Set on every route of a feature plugin: its id, for the on/off gate. */
    feature?: string;
  }
}

/** The neighbourhood the URL names (`:slug`), if any. */
export function slugParam(req: FastifyRequest): string | undefined {
  const slug = (req.params as Record<string, unknown> | undefined)?.slug;
  return typeof slug === 'string' ? slug : undefined;
}

/** The neighbourhood a request is about: the one in the URL, else the user's first verified one. */
export function requestNeighborhood(req: FastifyRequest): string | undefined {
  const slug = slugParam(req);
  const ms = req.memberships ?? [];
  if (slug) return ms.find((m) => m.slug === slug && m.verified)?.neighborhoodId;
  return ms.find((m) => m.verified)?.neighborhoodId;
}

export function hasAccess(req: FastifyRequest, level: AccessLevel): boolean {
  const user = req.user;
  if (level === 'public') return true;
  if (!user) return false;
  const slug = slugParam(req);
  const ms = (req.memberships ?? []).filter((m) => m.verified && (!slug || m.slug === slug));
  switch (level) {
    case 'authenticated':
      return true;
    case 'member':
      return ms.length > 0;
    case 'moderator':
      return ms.some((m) => m.role === 'moderator');
    case 'organization':
      // Organization accounts arrive with the council-bulletins plugin; until then nobody holds this level.
      return false;
    case 'admin':
      return user.role === 'admin';
  }
}

/** Thrown from onRoute: the server refuses to start with a route that does not say who may call it. */
export function assertDeclared(method: string | string[], url: string, access: unknown): void {
  if (!ACCESS_LEVELS.includes(access as AccessLevel)) {
    throw new OperatorError(`Route ${[method].flat().join(',')} ${url} declares no access level`, {
      context: 'while registering routes',
      help: `add config: { access: '${ACCESS_LEVELS.join("' | '")}' } to the route`,
    });
  }
}
