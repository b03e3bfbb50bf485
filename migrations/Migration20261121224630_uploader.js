'use strict';
Object.defineProperty(exports, '__esModule', { value: true });
const { Migration } = require('@mikro-orm/migrations');

class Migration20261121224630_uploader extends Migration {

  async up() {
    this.addSql(`create table "uploader" ("id" serial primary key, "status" text check ("status" in ('REMOVED', 'PREPARED', 'ACTIVE')) not null default 'REMOVED', "check_state" text check ("check_state" in ('UNCHECKED', 'CHANGED', 'FAILED', 'AUTO_REACTIVATE', 'CHECKED')) not null default 'UNCHECKED', "checked_at" timestamptz null, "problem" text null, "fingerprint" text not null, "armored" text not null, "user_id" int null, "user_ids" jsonb not null, "algorithm" text not null default '', "expires_at" timestamptz null);`);
    this.addSql(`alter table "uploader" add constraint "uploader_fingerprint_unique" unique ("fingerprint");`);

    this.addSql(`create table "uploader_repositories" ("uploader_id" int not null, "repository_id" int not null, constraint "uploader_repositories_pkey" primary key ("uploader_id", "repository_id"));`);

    this.addSql(`alter table "uploader" add constraint "uploader_user_id_foreign" foreign key ("user_id") references "app_user" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "uploader_repositories" add constraint "uploader_repositories_uploader_id_foreign" foreign key ("uploader_id") references "uploader" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "uploader_repositories" add constraint "uploader_repositories_repository_id_foreign" foreign key ("repository_id") references "repository" ("id") on update cascade on delete cascade;`);
  }

  async down() {
    this.addSql(`alter table "uploader_repositories" drop constraint "uploader_repositories_uploader_id_foreign";`);

    this.addSql(`drop table if exists "uploader" cascade;`);

    this.addSql(`drop table if exists "uploader_repositories" cascade;`);
  }

}
exports.Migration20261121224630_uploader = Migration20261121224630_uploader;
