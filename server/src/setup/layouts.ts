import type { SuiteSpec } from '../layout/layout.kind.js';

export interface LayoutPreset {
  name: string;
  suites: SuiteSpec[];
  mandatoryVersionRegex?: string;
  experimentalMandatoryVersionRegex?: string;
  metaDistributions?: Record<string, string>;
}

/** mini-buildd's default suites (SUITE_SETUP) with the rollbacks of its "Default" layout. */
const DEFAULT_SUITES: SuiteSpec[] = [
  { name: 'stable', uploadable: false, rollbacks: 6 },
  { name: 'hotfix', migratesTo: 'stable', rollbacks: 4 },
  { name: 'testing', uploadable: false, migratesTo: 'stable', rollbacks: 3 },
  { name: 'unstable', migratesTo: 'testing', buildKeyringPackage: true, rollbacks: 9 },
  { name: 'snapshot', experimental: true, rollbacks: 12 },
  { name: 'experimental', experimental: true, butAutomaticUpgrades: false, rollbacks: 6 },
];

/** The layouts mini-buildd's setup offers (mini-buildd.md §2.3). */
export const LAYOUT_PRESETS: LayoutPreset[] = [
  { name: 'Default', suites: DEFAULT_SUITES },
  { name: 'Default (no rollbacks)', suites: DEFAULT_SUITES.map((s) => ({ ...s, rollbacks: 0 })) },
  {
    name: 'Debian Developer',
    suites: [
      { name: 'stable', uploadable: false },
      { name: 'testing', uploadable: false, migratesTo: 'stable' },
      { name: 'unstable', migratesTo: 'testing', buildKeyringPackage: true },
      { name: 'experimental', experimental: true, butAutomaticUpgrades: false },
    ],
    mandatoryVersionRegex: '.*',
    experimentalMandatoryVersionRegex: '.*',
    metaDistributions: { unstable: 'sid-unstable', experimental: 'sid-experimental' },
  },
];

/** Field values of a preset as the layout kind takes them (omitted flags take their defaults). */
export function layoutValues(p: LayoutPreset): Record<string, unknown> {
  return {
    suites: p.suites.map((s) => ({
      name: s.name,
      uploadable: s.uploadable ?? true,
      experimental: s.experimental ?? false,
      migratesTo: s.migratesTo ?? null,
      rollbacks: s.rollbacks ?? 0,
      buildKeyringPackage: s.buildKeyringPackage ?? false,
      notAutomatic: s.notAutomatic ?? true,
      butAutomaticUpgrades: s.butAutomaticUpgrades ?? true,
    })),
    mandatoryVersionRegex: p.mandatoryVersionRegex ?? '~%IDENTITY%%CODEVERSION%\\+[1-9]',
    experimentalMandatoryVersionRegex: p.experimentalMandatoryVersionRegex ?? '~%IDENTITY%%CODEVERSION%\\+0',
    metaDistributions: p.metaDistributions ?? {},
  };
}
