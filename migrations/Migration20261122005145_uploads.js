'use strict';
Object.defineProperty(exports, '__esModule', { value: true });
const { Migration } = require('@mikro-orm/migrations');

class Migration20261122005145_uploads extends Migration {

  async up() {
    this.addSql(`create table "upload" ("id" serial primary key, "changes_name" text not null, "spool_dir" text not null, "via" text check ("via" in ('FTP', 'HTTP')) not null, "remote_address" text null, "received_at" timestamptz not null, "changes_sha256" text not null, "state" text check ("state" in ('RECEIVED', 'REJECTED', 'PACKAGING', 'INSTALLING', 'INSTALLED', 'FAILED')) not null default 'RECEIVED', "source" text null, "version" text null, "distribution" text null, "target_distribution" text null, "repository" text null, "changed_by" text null, "signed_by" text null, "uploader" text null, "reject_code" text null, "reason" text null, "options" jsonb not null, "finished_at" timestamptz null, "attempt" int not null default 1);`);
    this.addSql(`create index "upload_changes_sha256_index" on "upload" ("changes_sha256");`);
    this.addSql(`create index "upload_source_index" on "upload" ("source");`);
    this.addSql(`create index "upload_state_id_index" on "upload" ("state", "id");`);

    this.addSql(`alter table "build" add column "upload_id" int null, add column "optional" boolean not null default false;`);
    this.addSql(`alter table "build" add constraint "build_upload_id_foreign" foreign key ("upload_id") references "upload" ("id") on update cascade on delete cascade;`);
    this.addSql(`create index "build_upload_id_index" on "build" ("upload_id");`);
  }

  async down() {
    this.addSql(`alter table "build" drop constraint "build_upload_id_foreign";`);

    this.addSql(`drop table if exists "upload" cascade;`);

    this.addSql(`drop index "build_upload_id_index";`);
    this.addSql(`alter table "build" drop column "upload_id", drop column "optional";`);
  }

}
exports.Migration20261122005145_uploads = Migration20261122005145_uploads;
