import { aptKeyKind } from '../archive/apt-key.kind.js';
import { archiveKind } from '../archive/archive.kind.js';
import { sourceKind } from '../archive/source.kind.js';
import { chrootKind } from '../chroot/chroot.kind.js';
import { distributionKind } from '../distribution/distribution.kind.js';
import { daemonConfigKind } from '../instance/daemon-config.kind.js';
import { layoutKind } from '../layout/layout.kind.js';
import { remoteKind } from '../remote/remote.kind.js';
import { repositoryKind } from '../repository/repository.kind.js';
import { uploaderKind } from '../uploader/uploader.kind.js';
import type { KindHandler } from './config-kind.js';

/** Every configuration kind, in dependency order (what comes first can be needed by what follows). */
export const configKinds = [
  daemonConfigKind,
  archiveKind,
  aptKeyKind,
  sourceKind,
  layoutKind,
  distributionKind,
  repositoryKind,
  uploaderKind,
  chrootKind,
  remoteKind,
] as unknown as KindHandler[];
