import type { ChrootBackend } from '../chroot/chroot.entity.js';
import type { BuildDepResolver, QaMode } from '../distribution/distribution.entity.js';

/** An apt source a build adds on top of its chroot (the repository's own suites, extra sources). */
export interface ExtraRepository {
  /** One-line form, e.g. `deb http://127.0.0.1:8066/repositories/test/ bookworm-test-unstable main`. */
  line: string;
  /** Absolute path of an armored key that signs it (sbuild's --extra-repository-key); empty: see extraKeys. */
  keyFile: string;
}

/** Where to find the chroot a build runs in. */
export interface ChrootRef {
  backend: ChrootBackend;
  /** schroot chroot name (SCHROOT) or the absolute tarball path (UNSHARE). */
  name: string;
  /** UNSHARE: where sbuild unpacks the tarball, e.g. /dev/shm/tmp.sbuild.debyard-default.XXXXXXXXXX. */
  tmpdirTemplate?: string;
}

/**
 * Everything sbuild and QA need for one build, frozen when the build is queued (stored as JSON on the
 * Build). Paths are absolute on the builder.
 */
export interface BuildSpec {
  /** The .dsc inside the build's source directory. */
  dsc: string;
  distribution: string;
  architecture: string;
  archAll: boolean;
  chroot: ChrootRef;
  extraRepositories: ExtraRepository[];
  /**
   * Further armored keys, one per file, that apt trusts in the build (a build request from another
   * instance names its sources and keys apart, as mini-buildd's apt_sources.list and apt_keys do).
   */
  extraKeys?: string[];
  buildDepResolver: BuildDepResolver;
  debBuildOptions: string;
  debBuildProfiles: string;
  /** Extra build dependencies, comma separated (sbuild --add-depends). */
  addDepends: string;
  /** Parallel jobs (-jN). */
  jobs: number;
  lintianMode: QaMode;
  lintianExtraOptions: string;
  autopkgtestMode: QaMode;
}
