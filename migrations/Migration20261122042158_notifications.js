'use strict';
Object.defineProperty(exports, '__esModule', { value: true });
const { Migration } = require('@mikro-orm/migrations');

class Migration20261122042158_notifications extends Migration {

  async up() {
    this.addSql(`create table "package_subscription" ("id" serial primary key, "user_id" int not null, "source" text not null default '', "distribution" text not null default '', "created_at" timestamptz not null default now());`);
    this.addSql(`alter table "package_subscription" add constraint "package_subscription_user_id_source_distribution_unique" unique ("user_id", "source", "distribution");`);

    this.addSql(`alter table "package_subscription" add constraint "package_subscription_user_id_foreign" foreign key ("user_id") references "app_user" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "daemon_config" add column "smtp_url" text not null default '', add column "mail_from" text not null default '', add column "notify_addresses" jsonb not null default '[]';`);

    this.addSql(`alter table "repository" add column "notify_changed_by" boolean not null default false, add column "notify_maintainer" boolean not null default false, add column "allow_emails_to" text not null default '';`);

    this.addSql(`alter table "app_user" add column "email" text null;`);
  }

  async down() {
    this.addSql(`drop table if exists "package_subscription" cascade;`);

    this.addSql(`alter table "app_user" drop column "email";`);

    this.addSql(`alter table "daemon_config" drop column "smtp_url", drop column "mail_from", drop column "notify_addresses";`);

    this.addSql(`alter table "repository" drop column "notify_changed_by", drop column "notify_maintainer", drop column "allow_emails_to";`);
  }

}
exports.Migration20261122042158_notifications = Migration20261122042158_notifications;
