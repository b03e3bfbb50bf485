'use strict';
Object.defineProperty(exports, '__esModule', { value: true });
const { Migration } = require('@mikro-orm/migrations');

class Migration20261121220605_foundation extends Migration {

  async up() {
    this.addSql(`create table "event" ("id" bigserial primary key, "type" text not null, "created_at" timestamptz not null default now(), "summary" text not null, "payload" jsonb not null);`);
    this.addSql(`create index "event_type_index" on "event" ("type");`);

    this.addSql(`create table "app_user" ("id" serial primary key, "username" text not null, "role" text check ("role" in ('UPLOADER', 'STAFF', 'ADMIN')) not null, "password_hash" text null, "created_at" timestamptz not null default now(), "last_sign_in_at" timestamptz null);`);
    this.addSql(`alter table "app_user" add constraint "app_user_username_unique" unique ("username");`);

    this.addSql(`create table "api_token" ("id" serial primary key, "user_id" int not null, "kind" text check ("kind" in ('API', 'SESSION')) not null, "name" text not null, "secret_hash" text not null, "created_at" timestamptz not null default now(), "expires_at" timestamptz null, "last_used_at" timestamptz null, "revoked_at" timestamptz null);`);
    this.addSql(`alter table "api_token" add constraint "api_token_secret_hash_unique" unique ("secret_hash");`);

    this.addSql(`alter table "api_token" add constraint "api_token_user_id_foreign" foreign key ("user_id") references "app_user" ("id") on update cascade on delete cascade;`);
  }

}
exports.Migration20261121220605_foundation = Migration20261121220605_foundation;
