'use strict';
Object.defineProperty(exports, '__esModule', { value: true });
const { Migration } = require('@mikro-orm/migrations');

class Migration20261122065415_accounts extends Migration {

  async up() {
    this.addSql(`alter table "daemon_config" add column "sign_up" text check ("sign_up" in ('CLOSED', 'APPROVAL', 'OPEN')) not null default 'APPROVAL';`);

    this.addSql(`alter table "app_user" add column "state" text check ("state" in ('PENDING', 'ACTIVE', 'DEACTIVATED')) not null default 'ACTIVE';`);
  }

  async down() {
    this.addSql(`alter table "app_user" drop column "state";`);

    this.addSql(`alter table "daemon_config" drop column "sign_up";`);
  }

}
exports.Migration20261122065415_accounts = Migration20261122065415_accounts;
