// How residents see each other: the profile they choose, the neighbour directory, and their own data (export, erase).
import type { FastifyInstance } from 'fastify';
import profileRoutes from './profile.routes.ts';
import directoryRoutes from './directory.routes.ts';
import myDataRoutes from './my-data.routes.ts';

export default async function membersRoutes(app: FastifyInstance) {
  await app.register(profileRoutes);
  await app.register(directoryRoutes);
  await app.register(myDataRoutes);
}
