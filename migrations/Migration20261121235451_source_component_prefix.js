'use strict';
Object.defineProperty(exports, '__esModule', { value: true });
const { Migration } = require('@mikro-orm/migrations');

class Migration20261121235451_source_component_prefix extends Migration {

  async up() {
    this.addSql(`alter table "source" add column "remove_from_component" text not null default '';`);
  }

  async down() {
    this.addSql(`alter table "source" drop column "remove_from_component";`);
  }

}
exports.Migration20261121235451_source_component_prefix = Migration20261121235451_source_component_prefix;
