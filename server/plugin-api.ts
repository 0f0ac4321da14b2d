// The one module a feature plugin may import from the server: the contract, its types and a few helpers.
export { defineFeature, tablePrefix, CORE_API_VERSION } from './features/manifest.ts';
export type { FeatureDefinition, FeatureManifest, NavEntry, SettingSpec, AccessLevel, FeatureListeners } from './features/manifest.ts';
export type { FeatureContext } from './features/context.ts';
export type { CoreEvents, EventName, Listener } from './features/events.ts';
export { AppError, notFound, forbidden, unauthenticated } from './errors.ts';
export type { ErrorCode } from './errors.ts';
export { newId, randomToken } from './ids.ts';
export { toNumber } from './db/dialect.ts';
export type { FastifyInstance, FastifyRequest, FastifyReply } from 'fastify';
export type { Kysely, Transaction, Migration } from 'kysely';
export { sql } from 'kysely';
