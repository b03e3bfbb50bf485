'use strict';
Object.defineProperty(exports, '__esModule', { value: true });
const { Migration } = require('@mikro-orm/migrations');

class Migration20261122031454_upload_files extends Migration {

  async up() {
    this.addSql(`alter table "upload" add column "files" jsonb not null default '[]';`);
  }

  async down() {
    this.addSql(`alter table "upload" drop column "files";`);
  }

}
exports.Migration20261122031454_upload_files = Migration20261122031454_upload_files;
