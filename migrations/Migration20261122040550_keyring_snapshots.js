'use strict';
Object.defineProperty(exports, '__esModule', { value: true });
const { Migration } = require('@mikro-orm/migrations');

class Migration20261122040550_keyring_snapshots extends Migration {

  async up() {
    this.addSql(`create table "keyring_package" ("id" int not null default 1, "content_hash" text not null, "version_stamp" text not null, "changed_at" timestamptz not null, constraint "keyring_package_pkey" primary key ("id"));`);

    this.addSql(`create table "snapshot" ("id" serial primary key, "repository" text not null, "distribution" text not null, "name" text not null, "components" jsonb not null, "kind" text check ("kind" in ('MANUAL', 'WEEKLY', 'MONTHLY', 'YEARLY')) not null, "created_at" timestamptz not null default now(), "expires_at" timestamptz null, "created_by" text null);`);
    this.addSql(`create index "snapshot_repository_index" on "snapshot" ("repository");`);
    this.addSql(`alter table "snapshot" add constraint "snapshot_distribution_name_unique" unique ("distribution", "name");`);

    this.addSql(`alter table "repository" add column "weekly_snapshots" int not null default 4, add column "monthly_snapshots" int not null default 12, add column "yearly_snapshots" int not null default 3;`);
  }

  async down() {
    this.addSql(`drop table if exists "keyring_package" cascade;`);

    this.addSql(`drop table if exists "snapshot" cascade;`);

    this.addSql(`alter table "repository" drop column "weekly_snapshots", drop column "monthly_snapshots", drop column "yearly_snapshots";`);
  }

}
exports.Migration20261122040550_keyring_snapshots = Migration20261122040550_keyring_snapshots;
