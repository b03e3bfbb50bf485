'use strict';
Object.defineProperty(exports, '__esModule', { value: true });
const { Migration } = require('@mikro-orm/migrations');

class Migration20261122064712_hooks_webhooks extends Migration {

  async up() {
    this.addSql(`create table "webhook" ("id" serial primary key, "url" text not null, "secret" text not null, "event_types" jsonb not null default '[]', "active" boolean not null default true, "created_at" timestamptz not null default now(), "created_by" text not null, "last_attempt_at" timestamptz null, "last_ok" boolean null, "last_result" text null);`);
    this.addSql(`alter table "webhook" add constraint "webhook_url_unique" unique ("url");`);

    this.addSql(`alter table "daemon_config" add column "hooks_dir" text not null default '', add column "hook_timeout" int not null default 60;`);
  }

  async down() {
    this.addSql(`drop table if exists "webhook" cascade;`);

    this.addSql(`alter table "daemon_config" drop column "hooks_dir", drop column "hook_timeout";`);
  }

}
exports.Migration20261122064712_hooks_webhooks = Migration20261122064712_hooks_webhooks;
