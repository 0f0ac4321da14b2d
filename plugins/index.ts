// The installed feature plugins, listed explicitly: the registry validates and registers exactly these.
import type { FeatureDefinition } from '../server/plugin-api.ts';

export const installedFeatures: FeatureDefinition[] = [];
