import { Entity, PrimaryKey, Property } from '@mikro-orm/postgresql';

/**
 * What the keyring package holds now (one row, id 1, from the first time it was asked for): the hash
 * of its files and the time stamp its version starts with, taken when that hash last changed. Without
 * this row configuration changes do not build it by themselves.
 */
@Entity({ tableName: 'keyring_package' })
export class KeyringPackageState {
  @PrimaryKey({ type: 'integer', autoincrement: false })
  id: number = 1;

  @Property({ type: 'text' })
  contentHash!: string;

  /** UTC `YYYYmmddHHMMSS`; the version in a distribution is `<stamp><its default version>`. */
  @Property({ type: 'text' })
  versionStamp!: string;

  @Property({ type: 'timestamptz' })
  changedAt!: Date;

  /** Marks a new content: a new stamp, so every distribution gets a new version. */
  changeTo(hash: string, stamp: string, at: Date): void {
    this.contentHash = hash;
    this.versionStamp = stamp;
    this.changedAt = at;
  }
}
