'use strict';
Object.defineProperty(exports, '__esModule', { value: true });
const { Migration } = require('@mikro-orm/migrations');

class Migration20261122020218_build_qa_seconds extends Migration {

  async up() {
    this.addSql(`alter table "build" add column "qa_seconds" double precision null;`);
  }

  async down() {
    this.addSql(`alter table "build" drop column "qa_seconds";`);
  }

}
exports.Migration20261122020218_build_qa_seconds = Migration20261122020218_build_qa_seconds;
