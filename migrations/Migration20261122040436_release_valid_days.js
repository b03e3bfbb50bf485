'use strict';
Object.defineProperty(exports, '__esModule', { value: true });
const { Migration } = require('@mikro-orm/migrations');

class Migration20261122040436_release_valid_days extends Migration {

  async up() {
    this.addSql(`alter table "repository" add column "release_valid_days" int not null default 0;`);
  }

  async down() {
    this.addSql(`alter table "repository" drop column "release_valid_days";`);
  }

}
exports.Migration20261122040436_release_valid_days = Migration20261122040436_release_valid_days;
