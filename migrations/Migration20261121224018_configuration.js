'use strict';
Object.defineProperty(exports, '__esModule', { value: true });
const { Migration } = require('@mikro-orm/migrations');

class Migration20261121224018_configuration extends Migration {

  async up() {
    this.addSql(`create table "apt_key" ("id" serial primary key, "status" text check ("status" in ('REMOVED', 'PREPARED', 'ACTIVE')) not null default 'REMOVED', "check_state" text check ("check_state" in ('UNCHECKED', 'CHANGED', 'FAILED', 'AUTO_REACTIVATE', 'CHECKED')) not null default 'UNCHECKED', "checked_at" timestamptz null, "problem" text null, "fingerprint" text not null, "armored" text not null, "user_ids" jsonb not null, "created_at" timestamptz null, "expires_at" timestamptz null);`);
    this.addSql(`alter table "apt_key" add constraint "apt_key_fingerprint_unique" unique ("fingerprint");`);

    this.addSql(`create table "architecture" ("name" text not null, constraint "architecture_pkey" primary key ("name"));`);

    this.addSql(`create table "archive" ("id" serial primary key, "status" text check ("status" in ('REMOVED', 'PREPARED', 'ACTIVE')) not null default 'REMOVED', "check_state" text check ("check_state" in ('UNCHECKED', 'CHANGED', 'FAILED', 'AUTO_REACTIVATE', 'CHECKED')) not null default 'UNCHECKED', "checked_at" timestamptz null, "problem" text null, "url" text not null, "ping_ms" double precision null);`);
    this.addSql(`alter table "archive" add constraint "archive_url_unique" unique ("url");`);

    this.addSql(`create table "component" ("name" text not null, constraint "component_pkey" primary key ("name"));`);

    this.addSql(`create table "daemon_config" ("id" int not null default 1, "status" text check ("status" in ('REMOVED', 'PREPARED', 'ACTIVE')) not null default 'REMOVED', "check_state" text check ("check_state" in ('UNCHECKED', 'CHANGED', 'FAILED', 'AUTO_REACTIVATE', 'CHECKED')) not null default 'UNCHECKED', "checked_at" timestamptz null, "problem" text null, "identity" text not null, "email_address" text not null, "custom_archive_origin" text not null default '', "max_parallel_builds" int not null default 1, "key_algorithm" text check ("key_algorithm" in ('ed25519', 'rsa4096')) not null default 'ed25519', "key_fingerprint" text null, constraint "daemon_config_pkey" primary key ("id"));`);

    this.addSql(`create table "layout" ("name" text not null, "default_version" text not null default '~%IDENTITY%%CODEVERSION%+1', "mandatory_version_regex" text not null default '~%IDENTITY%%CODEVERSION%\\+[1-9]', "experimental_default_version" text not null default '~%IDENTITY%%CODEVERSION%+0', "experimental_mandatory_version_regex" text not null default '~%IDENTITY%%CODEVERSION%\\+0', "meta_distributions" jsonb not null, constraint "layout_pkey" primary key ("name"));`);

    this.addSql(`create table "repository" ("id" serial primary key, "status" text check ("status" in ('REMOVED', 'PREPARED', 'ACTIVE')) not null default 'REMOVED', "check_state" text check ("check_state" in ('UNCHECKED', 'CHANGED', 'FAILED', 'AUTO_REACTIVATE', 'CHECKED')) not null default 'UNCHECKED', "checked_at" timestamptz null, "problem" text null, "identity" text not null, "layout_name" text not null, "allow_unauthenticated_uploads" boolean not null default false, "extra_uploader_keys" text not null default '', "notify" jsonb not null);`);
    this.addSql(`alter table "repository" add constraint "repository_identity_unique" unique ("identity");`);

    this.addSql(`create table "source" ("id" serial primary key, "status" text check ("status" in ('REMOVED', 'PREPARED', 'ACTIVE')) not null default 'REMOVED', "check_state" text check ("check_state" in ('UNCHECKED', 'CHANGED', 'FAILED', 'AUTO_REACTIVATE', 'CHECKED')) not null default 'UNCHECKED', "checked_at" timestamptz null, "problem" text null, "origin" text not null, "codename" text not null, "extra_identifiers" jsonb not null, "codeversion_override" text not null default '', "check_valid_until" boolean not null default true, "codeversion" text not null default '', "architectures" jsonb not null, "components" jsonb not null, "release_date" timestamptz null, "archive_url" text not null default '');`);
    this.addSql(`alter table "source" add constraint "source_origin_codename_unique" unique ("origin", "codename");`);

    this.addSql(`create table "priority_source" ("id" serial primary key, "source_id" int not null, "priority" int not null);`);
    this.addSql(`create index "priority_source_source_id_index" on "priority_source" ("source_id");`);
    this.addSql(`alter table "priority_source" add constraint "priority_source_source_id_priority_unique" unique ("source_id", "priority");`);

    this.addSql(`create table "distribution" ("id" serial primary key, "base_source_id" int not null, "build_dep_resolver" text check ("build_dep_resolver" in ('APT', 'APTITUDE')) not null default 'APT', "lintian_mode" text check ("lintian_mode" in ('DISABLED', 'IGNORE', 'ERRFAIL', 'WARNFAIL')) not null default 'ERRFAIL', "lintian_extra_options" text not null default '--info', "autopkgtest_mode" text check ("autopkgtest_mode" in ('DISABLED', 'IGNORE', 'ERRFAIL', 'WARNFAIL')) not null default 'DISABLED', "deb_build_options" text not null default '', "deb_build_profiles" text not null default '', "add_depends" text not null default '', "internal_apt_priority" int not null default 1);`);
    this.addSql(`alter table "distribution" add constraint "distribution_base_source_id_unique" unique ("base_source_id");`);

    this.addSql(`create table "repository_distributions" ("repository_id" int not null, "distribution_id" int not null, constraint "repository_distributions_pkey" primary key ("repository_id", "distribution_id"));`);

    this.addSql(`create table "distribution_extra_sources" ("distribution_id" int not null, "priority_source_id" int not null, constraint "distribution_extra_sources_pkey" primary key ("distribution_id", "priority_source_id"));`);

    this.addSql(`create table "distribution_components" ("distribution_id" int not null, "component_name" text not null, constraint "distribution_components_pkey" primary key ("distribution_id", "component_name"));`);

    this.addSql(`create table "architecture_option" ("id" serial primary key, "distribution_id" int not null, "architecture_name" text not null, "optional" boolean not null default false, "build_architecture_all" boolean not null default false);`);
    this.addSql(`alter table "architecture_option" add constraint "architecture_option_distribution_id_architecture_name_unique" unique ("distribution_id", "architecture_name");`);

    this.addSql(`create table "source_apt_keys" ("source_id" int not null, "apt_key_id" int not null, constraint "source_apt_keys_pkey" primary key ("source_id", "apt_key_id"));`);

    this.addSql(`create table "source_archives" ("source_id" int not null, "archive_id" int not null, constraint "source_archives_pkey" primary key ("source_id", "archive_id"));`);

    this.addSql(`create table "suite" ("name" text not null, constraint "suite_pkey" primary key ("name"));`);

    this.addSql(`create table "suite_option" ("id" serial primary key, "layout_name" text not null, "suite_name" text not null, "uploadable" boolean not null default true, "experimental" boolean not null default false, "migrates_to" text null, "rollbacks" int not null default 0, "build_keyring_package" boolean not null default false, "not_automatic" boolean not null default true, "but_automatic_upgrades" boolean not null default true);`);
    this.addSql(`alter table "suite_option" add constraint "suite_option_layout_name_suite_name_unique" unique ("layout_name", "suite_name");`);

    this.addSql(`alter table "repository" add constraint "repository_layout_name_foreign" foreign key ("layout_name") references "layout" ("name") on update cascade;`);

    this.addSql(`alter table "priority_source" add constraint "priority_source_source_id_foreign" foreign key ("source_id") references "source" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "distribution" add constraint "distribution_base_source_id_foreign" foreign key ("base_source_id") references "source" ("id") on update cascade;`);

    this.addSql(`alter table "repository_distributions" add constraint "repository_distributions_repository_id_foreign" foreign key ("repository_id") references "repository" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "repository_distributions" add constraint "repository_distributions_distribution_id_foreign" foreign key ("distribution_id") references "distribution" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "distribution_extra_sources" add constraint "distribution_extra_sources_distribution_id_foreign" foreign key ("distribution_id") references "distribution" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "distribution_extra_sources" add constraint "distribution_extra_sources_priority_source_id_foreign" foreign key ("priority_source_id") references "priority_source" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "distribution_components" add constraint "distribution_components_distribution_id_foreign" foreign key ("distribution_id") references "distribution" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "distribution_components" add constraint "distribution_components_component_name_foreign" foreign key ("component_name") references "component" ("name") on update cascade on delete cascade;`);

    this.addSql(`alter table "architecture_option" add constraint "architecture_option_distribution_id_foreign" foreign key ("distribution_id") references "distribution" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "architecture_option" add constraint "architecture_option_architecture_name_foreign" foreign key ("architecture_name") references "architecture" ("name") on update cascade;`);

    this.addSql(`alter table "source_apt_keys" add constraint "source_apt_keys_source_id_foreign" foreign key ("source_id") references "source" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "source_apt_keys" add constraint "source_apt_keys_apt_key_id_foreign" foreign key ("apt_key_id") references "apt_key" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "source_archives" add constraint "source_archives_source_id_foreign" foreign key ("source_id") references "source" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "source_archives" add constraint "source_archives_archive_id_foreign" foreign key ("archive_id") references "archive" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "suite_option" add constraint "suite_option_layout_name_foreign" foreign key ("layout_name") references "layout" ("name") on update cascade on delete cascade;`);
    this.addSql(`alter table "suite_option" add constraint "suite_option_suite_name_foreign" foreign key ("suite_name") references "suite" ("name") on update cascade;`);
  }

  async down() {
    this.addSql(`alter table "source_apt_keys" drop constraint "source_apt_keys_apt_key_id_foreign";`);

    this.addSql(`alter table "architecture_option" drop constraint "architecture_option_architecture_name_foreign";`);

    this.addSql(`alter table "source_archives" drop constraint "source_archives_archive_id_foreign";`);

    this.addSql(`alter table "distribution_components" drop constraint "distribution_components_component_name_foreign";`);

    this.addSql(`alter table "repository" drop constraint "repository_layout_name_foreign";`);

    this.addSql(`alter table "suite_option" drop constraint "suite_option_layout_name_foreign";`);

    this.addSql(`alter table "repository_distributions" drop constraint "repository_distributions_repository_id_foreign";`);

    this.addSql(`alter table "priority_source" drop constraint "priority_source_source_id_foreign";`);

    this.addSql(`alter table "distribution" drop constraint "distribution_base_source_id_foreign";`);

    this.addSql(`alter table "source_apt_keys" drop constraint "source_apt_keys_source_id_foreign";`);

    this.addSql(`alter table "source_archives" drop constraint "source_archives_source_id_foreign";`);

    this.addSql(`alter table "distribution_extra_sources" drop constraint "distribution_extra_sources_priority_source_id_foreign";`);

    this.addSql(`alter table "repository_distributions" drop constraint "repository_distributions_distribution_id_foreign";`);

    this.addSql(`alter table "distribution_extra_sources" drop constraint "distribution_extra_sources_distribution_id_foreign";`);

    this.addSql(`alter table "distribution_components" drop constraint "distribution_components_distribution_id_foreign";`);

    this.addSql(`alter table "architecture_option" drop constraint "architecture_option_distribution_id_foreign";`);

    this.addSql(`alter table "suite_option" drop constraint "suite_option_suite_name_foreign";`);

    this.addSql(`drop table if exists "apt_key" cascade;`);

    this.addSql(`drop table if exists "architecture" cascade;`);

    this.addSql(`drop table if exists "archive" cascade;`);

    this.addSql(`drop table if exists "component" cascade;`);

    this.addSql(`drop table if exists "daemon_config" cascade;`);

    this.addSql(`drop table if exists "layout" cascade;`);

    this.addSql(`drop table if exists "repository" cascade;`);

    this.addSql(`drop table if exists "source" cascade;`);

    this.addSql(`drop table if exists "priority_source" cascade;`);

    this.addSql(`drop table if exists "distribution" cascade;`);

    this.addSql(`drop table if exists "repository_distributions" cascade;`);

    this.addSql(`drop table if exists "distribution_extra_sources" cascade;`);

    this.addSql(`drop table if exists "distribution_components" cascade;`);

    this.addSql(`drop table if exists "architecture_option" cascade;`);

    this.addSql(`drop table if exists "source_apt_keys" cascade;`);

    this.addSql(`drop table if exists "source_archives" cascade;`);

    this.addSql(`drop table if exists "suite" cascade;`);

    this.addSql(`drop table if exists "suite_option" cascade;`);
  }

}
exports.Migration20261121224018_configuration = Migration20261121224018_configuration;
