'use strict';
Object.defineProperty(exports, '__esModule', { value: true });
const { Migration } = require('@mikro-orm/migrations');

class Migration20261122001136_builders extends Migration {

  async up() {
    this.addSql(`create table "build" ("id" serial primary key, "source" text not null, "version" text not null, "distribution" text not null, "architecture" text not null, "arch_all" boolean not null, "chroot" text not null, "state" text check ("state" in ('QUEUED', 'BUILDING', 'BUILT')) not null default 'QUEUED', "result" text check ("result" in ('SUCCESSFUL', 'FAILED', 'GIVEN_BACK', 'SKIPPED', 'CANCELLED', 'ERROR')) null, "fail_stage" text null, "reason" text null, "cancel_requested_by" text null, "queued_at" timestamptz not null, "started_at" timestamptz null, "finished_at" timestamptz null, "sbuild_seconds" double precision null, "lintian" text check ("lintian" in ('NOT_RUN', 'PASS', 'WARN', 'FAIL', 'ERROR')) not null default 'NOT_RUN', "autopkgtest" text check ("autopkgtest" in ('NOT_RUN', 'PASS', 'WARN', 'FAIL', 'ERROR')) not null default 'NOT_RUN', "attempt" int not null default 1, "pid" int null, "builder" text null, "test_build" boolean not null default false, "requested_by" text null, "spec" jsonb not null);`);
    this.addSql(`create index "build_source_index" on "build" ("source");`);
    this.addSql(`create index "build_state_id_index" on "build" ("state", "id");`);

    this.addSql(`create table "chroot" ("id" serial primary key, "status" text check ("status" in ('REMOVED', 'PREPARED', 'ACTIVE')) not null default 'REMOVED', "check_state" text check ("check_state" in ('UNCHECKED', 'CHANGED', 'FAILED', 'AUTO_REACTIVATE', 'CHECKED')) not null default 'UNCHECKED', "checked_at" timestamptz null, "problem" text null, "source_id" int not null, "architecture" text not null, "backend" text check ("backend" in ('SCHROOT', 'UNSHARE')) not null default 'SCHROOT', "size_bytes" bigint null, "refreshed_at" timestamptz null, "phase" text null);`);
    this.addSql(`alter table "chroot" add constraint "chroot_source_id_architecture_unique" unique ("source_id", "architecture");`);

    this.addSql(`alter table "chroot" add constraint "chroot_source_id_foreign" foreign key ("source_id") references "source" ("id") on update cascade;`);
  }

  async down() {
    this.addSql(`drop table if exists "build" cascade;`);

    this.addSql(`drop table if exists "chroot" cascade;`);
  }

}
exports.Migration20261122001136_builders = Migration20261122001136_builders;
