# Upgrade paths: an older version updated with ALTER EXTENSION ... UPDATE must leave the same
# catalog as a fresh install of the new version. test/upgrade/catalog_snapshot.sql describes an
# install (functions with signatures, defaults and attributes, tables and columns with types and
# defaults, indexes, constraints, triggers, policies, grants, comments, pg_dump registrations...),
# one line per fact; the two descriptions must be equal.
# - The harness itself: the fake version <current>-harness (a copy of the install script, reached
#   by an empty upgrade script) compares equal, and the fake version <current>-drift (the install
#   script plus test/upgrade/drift.sql, reached by an empty upgrade script) differs in every change
#   drift.sql makes. Both come from `make install-upgrade-fixtures`, which test/run_all.sh runs into
#   its temporary install only.
# - Every upgrade script shipped (sql/orchestrator--A--B.sql) is installed, every released version
#   (test/upgrade/versions/) has a path to the current version, every version an upgrade script
#   starts from was released, and every path from a released version to the current one gives the
#   catalog of a fresh install, with a task queued before the update still dispatched and
#   completed after it. While only one version exists, that part checks there is nothing to check.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use File::Basename;

my $root = $ENV{top_builddir} or die 'top_builddir is not set';
my $snapshot_sql = "$root/test/upgrade/catalog_snapshot.sql";

my $node = PostgreSQL::Test::Cluster->new('upgrade');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'orchestrator'\n");
$node->start;

my $extdir = $node->config_data('--sharedir') . '/extension';
my $current = $node->safe_psql('postgres',
	"SELECT default_version FROM pg_available_extensions WHERE name = 'orchestrator'");
like($current, qr/^\d+\.\d+\.\d+$/, "the current version is $current");

# Versions that have an install script of their own in the installation.
my %installable = map { basename($_) =~ /^orchestrator--([^-]+(?:-[^-]+)*)\.sql$/ ? ($1 => 1) : () }
  grep { basename($_) !~ /^orchestrator--.+--.+\.sql$/ } glob("$extdir/orchestrator--*.sql");

my $db_count = 0;

# A new database with the extension at $version; returns its name.
sub install
{
	my ($version) = @_;
	my $db = 'upgrade_' . ++$db_count;
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db, "CREATE EXTENSION orchestrator VERSION '$version'");
	return $db;
}

# The catalog description of the extension in $db, as a list of lines.
sub snapshot
{
	my ($db) = @_;
	return [ split /\n/, $node->safe_psql($db, slurp_file($snapshot_sql)) ];
}

# The lines of $fresh missing from $updated ("- ") and the lines of $updated not in $fresh ("+ ").
sub difference
{
	my ($fresh, $updated) = @_;
	my %in_fresh = map { $_ => 1 } @$fresh;
	my %in_updated = map { $_ => 1 } @$updated;
	return join('',
		(map { "- $_\n" } grep { !$in_updated{$_} } @$fresh),
		(map { "+ $_\n" } grep { !$in_fresh{$_} } @$updated));
}

# Installs $from with a task queued, updates it to $to; returns the catalog difference from a fresh
# install of $to. The task must still be dispatched and completed after the update.
sub compare_update
{
	my ($from, $to) = @_;
	my $fresh_db = install($to);
	my $fresh = snapshot($fresh_db);
	my $db = install($from);
	my $task = $node->safe_psql($db,
		"SELECT orchestrator.register_workflow_type('upgrade_check');"
		  . " SELECT orchestrator.enqueue('upgrade_check', '{\"before\": \"update\"}')");
	$task = (split /\n/, $task)[-1];
	$node->safe_psql($db, "ALTER EXTENSION orchestrator UPDATE TO '$to'");
	is($node->safe_psql($db,
			"SELECT extversion FROM pg_extension WHERE extname = 'orchestrator'"),
		$to, "$from -> $to: the extension is at $to");
	my $claimed = $node->safe_psql($db,
		"SELECT execution_id || ' ' || task_ids::text"
		  . " FROM orchestrator.orchestrate_next_execution('upgrade-check')");
	like($claimed, qr/^\d+ \{$task\}$/, "$from -> $to: the task queued before is dispatched");
	my ($execution) = split / /, $claimed;
	is($node->safe_psql($db, "SELECT orchestrator.complete_execution($execution)"),
		'completed', "$from -> $to: and completed") if defined $execution;
	my $difference = difference($fresh, snapshot($db));
	$node->safe_psql('postgres', "DROP DATABASE $_") for ($db, $fresh_db);
	return $difference;
}

subtest 'the snapshot describes the install' => sub {
	my $db = install($current);
	my $lines = snapshot($db);
	$node->safe_psql('postgres', "DROP DATABASE $db");
	for my $kind (qw(extension dump member schema function aggregate relation column constraint
		index view sequence trigger comment))
	{
		ok((grep { /^\Q$kind\E\|/ } @$lines), "it has $kind lines");
	}
	ok((grep { /^function\|orchestrator\.enqueue\(text,jsonb,integer,.*\|volatility=v\|/ } @$lines),
		'enqueue is described with its signature and volatility');
};

subtest 'the harness: an update to an identical version compares equal' => sub {
	ok($installable{"$current-harness"},
		"the fake version $current-harness is installed (make install-upgrade-fixtures)")
	  or return;
	is(compare_update($current, "$current-harness"), '', 'no difference');
};

subtest 'the harness: an update that forgets changes is caught, change by change' => sub {
	ok($installable{"$current-drift"},
		"the fake version $current-drift is installed (make install-upgrade-fixtures)")
	  or return;
	my $difference = compare_update($current, "$current-drift");
	my %forgotten = (
		'a new function' => qr/^- member\|function orchestrator\.harness_added\(\)$/m,
		'a changed volatility' =>
		  qr/^- function\|orchestrator\.list_alerts\(boolean\)\|.*\|volatility=v\|/m,
		'a changed function setting' =>
		  qr/^- function\|orchestrator\.dashboard_html\(integer\)\|.*\|settings=\{[^}]*work_mem=8MB\}/m,
		'a new column' => qr/^- column\|orchestrator\.alert\|position=\d+\|harness_note\|text\|/m,
		'a changed column default' =>
		  qr/^- column\|orchestrator\.api\|position=\d+\|burst\|integer\|.*\|default=7\|/m,
		'a new index' => qr/^- index\|orchestrator\.harness_audit_actor\|/m,
		'a new constraint' => qr/^- constraint\|orchestrator\.breaker\|harness_failures\|/m,
		'a new trigger' => qr/^- trigger\|orchestrator\.schedule\|harness_changed\|/m,
		'a new grant' => qr/^- relation\|orchestrator\.metric_total\|.*pg_monitor=r\//m,
		'a new policy' => qr/^- policy\|orchestrator\.alert\|harness_policy\|/m,
		'a new type' => qr/^- type\|orchestrator\.harness_state\|kind=e\|.*labels=on,off\|/m,
		'a new view' => qr/^- view\|orchestrator\.harness_view\|/m,
		'a new comment' => qr/^- comment\|function orchestrator\.tick\(\)\|harness comment$/m,
		'a changed pg_dump filter' =>
		  qr/^- dump\|orchestrator\.alert\|where=WHERE resolved_at IS NULL$/m);
	for my $change (sort keys %forgotten)
	{
		like($difference, $forgotten{$change}, "it reports $change");
	}
};

subtest 'every upgrade path shipped gives the catalog of a fresh install' => sub {
	my @scripts = map { basename($_) } glob("$root/sql/orchestrator--*--*.sql");
	my @released = map { basename($_) =~ /^orchestrator--(.+)\.sql$/ ? $1 : () }
	  glob("$root/test/upgrade/versions/orchestrator--*.sql");
	for my $script (@scripts)
	{
		ok(-f "$extdir/$script", "$script is installed (Makefile DATA)");
		my ($from) = $script =~ /^orchestrator--(.+?)--/;
		ok((grep { $_ eq $from } @released),
			"$script starts from a released version (test/upgrade/versions/orchestrator--$from.sql)");
	}
	my %path = map { my ($s, $p) = split /\|/; ($s => $p) } split /\n/,
	  $node->safe_psql('postgres',
		"SELECT source, path FROM pg_extension_update_paths('orchestrator')"
		  . " WHERE target = '$current' AND path IS NOT NULL");
	for my $from (sort @released)
	{
		ok($installable{$from}, "released version $from is installed for the test");
		ok(defined $path{$from}, "released version $from has an upgrade path to $current")
		  or next;
		is(compare_update($from, $current), '', "$path{$from}: no difference from a fresh install");
	}
	if (!@scripts && !@released)
	{
		pass("no released version before $current and no upgrade script yet: nothing to update");
	}
};

done_testing();
