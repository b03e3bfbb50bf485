'use strict';
Object.defineProperty(exports, '__esModule', { value: true });
const { Migration } = require('@mikro-orm/migrations');

class Migration20261122070244_remotes extends Migration {

  async up() {
    this.addSql(`create table "remote" ("id" serial primary key, "status" text check ("status" in ('REMOVED', 'PREPARED', 'ACTIVE')) not null default 'REMOVED', "check_state" text check ("check_state" in ('UNCHECKED', 'CHANGED', 'FAILED', 'AUTO_REACTIVATE', 'CHECKED')) not null default 'UNCHECKED', "checked_at" timestamptz null, "problem" text null, "url" text not null, "wake_command" jsonb not null, "wake_attempts" int not null default 2, "wake_interval_seconds" int not null default 5, "identity" text not null default '', "fingerprint" text not null default '', "armored" text not null default '', "version" text not null default '', "incoming_url" text not null default '', "load" double precision null, "chroots" jsonb not null, "builds" int null, "packages" int null, "seen_at" timestamptz null);`);
    this.addSql(`alter table "remote" add constraint "remote_url_unique" unique ("url");`);
  }

  async down() {
    this.addSql(`drop table if exists "remote" cascade;`);
  }

}
exports.Migration20261122070244_remotes = Migration20261122070244_remotes;
