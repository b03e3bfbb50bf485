'use strict';
Object.defineProperty(exports, '__esModule', { value: true });
const { Migration } = require('@mikro-orm/migrations');

class Migration20261206162244_WorkerProcess extends Migration {

  async up() {
    this.addSql(`create table "worker_process" ("name" text not null, "host" text not null, "pid" int not null, "slots" int not null, "pool_ids" jsonb not null, "started_at" timestamptz not null, "last_seen_at" timestamptz not null, constraint "worker_process_pkey" primary key ("name"));`);
  }

  async down() {
    this.addSql(`drop table if exists "worker_process" cascade;`);
  }

}
exports.Migration20261206162244_WorkerProcess = Migration20261206162244_WorkerProcess;
