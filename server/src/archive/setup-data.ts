/**
 * The setup database for Debian and Ubuntu (mini-buildd's `dist.py`, reference §2.3): which
 * codenames exist per origin, where their archives are, which components they have, which extra
 * sources (security, backports) a distribution of that codename gets, and which keyring verifies
 * them. Plain data: the setup service turns it into Archive, Source and PrioritySource rows and
 * checks each source with `checkSource`; an extra source whose Release is missing
 * (RELEASE_NOT_FOUND, e.g. bookworm-backports-sloppy on deb.debian.org) is reported and skipped.
 */

export type KnownOrigin = 'Debian' | 'Ubuntu';

export interface ExtraSourceSetup {
  /** The directory under dists/, e.g. `bookworm-security` or `buster/updates`. */
  codename: string;
  /** The Release file's Origin, e.g. `Debian Backports`. */
  origin: string;
  /** Archive URLs, each ending in one `/`. */
  archives: string[];
  /** Apt pin priority in distributions that use it: 500 for security, 1 for backports. */
  priority: number;
  /** More Release fields that must match; `Codename` here overrides the directory name. */
  extraIdentifiers?: Record<string, string>;
  /** Prefix the archive puts before component names, e.g. `updates/` on debian-security. */
  removeFromComponent?: string;
  /** Whether Valid-Until is checked (false for releases on archive.debian.org). */
  checkValidUntil?: boolean;
}

export interface CodenameSetup {
  codename: string;
  /** Archive URLs of the base source. */
  archives: string[];
  components: string[];
  extraSources: ExtraSourceSetup[];
  checkValidUntil?: boolean;
  /** Keyrings needed besides the origin's, e.g. removed keys for archived releases. */
  extraKeyrings?: string[];
  /** Why this codename no longer builds with today's tools, when it does not. */
  broken?: string;
}

export interface DistributionDefaults {
  /** DEB_BUILD_OPTIONS for every build, e.g. `noddebs` on Ubuntu. */
  debBuildOptions: string;
  /** Architectures whose build failure does not fail the package. */
  optionalArchitectures: string[];
}

export interface OriginSetup {
  origin: KnownOrigin;
  /** Default archive of the base sources. */
  archives: string[];
  /** The keyring that verifies the origin's Release files. */
  keyring: string;
  distributionDefaults: DistributionDefaults;
  /** Newest first, as setup offers them. */
  codenames: CodenameSetup[];
}

export const DEBIAN_ARCHIVE = 'http://deb.debian.org/debian/';
export const DEBIAN_SECURITY_ARCHIVE = 'http://deb.debian.org/debian-security/';
export const DEBIAN_ARCHIVED = 'http://archive.debian.org/debian/';
export const DEBIAN_ARCHIVED_SECURITY = 'http://archive.debian.org/debian-security/';
export const UBUNTU_ARCHIVE = 'http://archive.ubuntu.com/ubuntu/';
export const DEBIAN_KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';
export const DEBIAN_REMOVED_KEYRING = '/usr/share/keyrings/debian-archive-removed-keys.gpg';
export const UBUNTU_KEYRING = '/usr/share/keyrings/ubuntu-archive-keyring.gpg';

const DEBIAN_COMPONENTS = ['main', 'contrib', 'non-free'];
const DEBIAN_COMPONENTS_FIRMWARE = ['main', 'contrib', 'non-free', 'non-free-firmware'];
const UBUNTU_COMPONENTS = ['main', 'restricted', 'universe', 'multiverse'];

function backports(codename: string, archive: string, checkValidUntil?: boolean): ExtraSourceSetup[] {
  return [`${codename}-backports`, `${codename}-backports-sloppy`].map((c) => ({
    codename: c,
    origin: 'Debian Backports',
    archives: [archive],
    priority: 1,
    ...(checkValidUntil === false ? { checkValidUntil } : {}),
  }));
}

/** A Debian release from bullseye on: security in `<c>-security` on deb.debian.org. */
function debianCurrent(codename: string, components: string[]): CodenameSetup {
  return {
    codename,
    archives: [DEBIAN_ARCHIVE],
    components,
    extraSources: [
      {
        codename: `${codename}-security`,
        origin: 'Debian',
        archives: [DEBIAN_SECURITY_ARCHIVE],
        priority: 500,
        removeFromComponent: 'updates/',
      },
      ...backports(codename, DEBIAN_ARCHIVE),
    ],
  };
}

/** A Debian release on archive.debian.org, with buster's old security layout `<c>/updates`. */
function debianArchived(codename: string): CodenameSetup {
  return {
    codename,
    archives: [DEBIAN_ARCHIVED],
    components: DEBIAN_COMPONENTS,
    checkValidUntil: false,
    extraKeyrings: [DEBIAN_REMOVED_KEYRING],
    extraSources: [
      {
        codename: `${codename}/updates`,
        origin: 'Debian',
        archives: [DEBIAN_ARCHIVED_SECURITY],
        priority: 500,
        extraIdentifiers: { Codename: codename, Label: 'Debian-Security' },
        removeFromComponent: 'updates/',
        checkValidUntil: false,
      },
      ...backports(codename, DEBIAN_ARCHIVED, false),
    ],
  };
}

function ubuntu(codename: string): CodenameSetup {
  const extra = (suffix: string, priority: number): ExtraSourceSetup => ({
    codename: `${codename}-${suffix}`,
    origin: 'Ubuntu',
    archives: [UBUNTU_ARCHIVE],
    priority,
    extraIdentifiers: { Codename: codename, Suite: `${codename}-${suffix}` },
  });
  return {
    codename,
    archives: [UBUNTU_ARCHIVE],
    components: UBUNTU_COMPONENTS,
    extraSources: [extra('security', 500), extra('backports', 1)],
  };
}

export const DEBIAN_SETUP: Readonly<Record<KnownOrigin, OriginSetup>> = {
  Debian: {
    origin: 'Debian',
    archives: [DEBIAN_ARCHIVE],
    keyring: DEBIAN_KEYRING,
    distributionDefaults: { debBuildOptions: '', optionalArchitectures: [] },
    codenames: [
      // sid has no security or backports suites.
      { codename: 'sid', archives: [DEBIAN_ARCHIVE], components: DEBIAN_COMPONENTS_FIRMWARE, extraSources: [] },
      debianCurrent('trixie', DEBIAN_COMPONENTS_FIRMWARE),
      debianCurrent('bookworm', DEBIAN_COMPONENTS_FIRMWARE),
      debianCurrent('bullseye', DEBIAN_COMPONENTS),
      debianArchived('buster'),
    ],
  },
  Ubuntu: {
    origin: 'Ubuntu',
    archives: [UBUNTU_ARCHIVE],
    keyring: UBUNTU_KEYRING,
    distributionDefaults: { debBuildOptions: 'noddebs', optionalArchitectures: ['i386'] },
    codenames: [ubuntu('noble'), ubuntu('jammy'), ubuntu('focal')],
  },
};

/** The setup entry for an origin's codename, or undefined when setup does not know it. */
export function findCodenameSetup(origin: string, codename: string): CodenameSetup | undefined {
  const entry = (DEBIAN_SETUP as Record<string, OriginSetup | undefined>)[origin];
  return entry?.codenames.find((c) => c.codename === codename);
}
