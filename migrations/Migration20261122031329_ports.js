'use strict';
Object.defineProperty(exports, '__esModule', { value: true });
const { Migration } = require('@mikro-orm/migrations');

class Migration20261122031329_ports extends Migration {

  async up() {
    this.addSql(`alter table "upload" drop constraint if exists "upload_via_check";`);

    this.addSql(`alter table "upload" add column "port" jsonb null;`);
    this.addSql(`alter table "upload" add constraint "upload_via_check" check("via" in ('FTP', 'HTTP', 'PORT'));`);
  }

  async down() {
    this.addSql(`alter table "upload" drop constraint if exists "upload_via_check";`);

    this.addSql(`alter table "upload" drop column "port";`);

    this.addSql(`alter table "upload" add constraint "upload_via_check" check("via" in ('FTP', 'HTTP'));`);
  }

}
exports.Migration20261122031329_ports = Migration20261122031329_ports;
