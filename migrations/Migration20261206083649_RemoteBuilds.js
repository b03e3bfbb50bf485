'use strict';
Object.defineProperty(exports, '__esModule', { value: true });
const { Migration } = require('@mikro-orm/migrations');

class Migration20261206083649_RemoteBuilds extends Migration {

  async up() {
    this.addSql(`alter table "build" add column "sent_to" text null, add column "timecode" text null, add column "for_packager" jsonb null, add column "result_sent_at" timestamptz null;`);
    this.addSql(`create index "build_timecode_index" on "build" ("timecode");`);
  }

  async down() {
    this.addSql(`drop index "build_timecode_index";`);
    this.addSql(`alter table "build" drop column "sent_to", drop column "timecode", drop column "for_packager", drop column "result_sent_at";`);
  }

}
exports.Migration20261206083649_RemoteBuilds = Migration20261206083649_RemoteBuilds;
