# pg_dump and a restore into a fresh database on another server continue where the dump left off.
# - Every table and identity sequence of the extension is registered with
#   pg_extension_config_dump (sql/install/95_dump.sql), so a new table cannot be forgotten.
# - The source is configured (global budget, an API, two workflow types, an API use, a schedule),
#   has queued tasks with idempotency keys, a completed execution, two running executions, a dead
#   letter and an API paused by a 429. A plain dump restored with psql (ON_ERROR_STOP) and a
#   custom-format dump restored with pg_restore --exit-on-error, each into a fresh database of a
#   second server, hold every row of every table and every sequence position of the source, and
#   get_system_health() says the same (queue, running, budget spent and reserved, the pause).
# - On the restore: a known idempotency key returns the source's task id; new task and execution
#   ids come after the source's; the restored running executions count against the type's
#   max_concurrent and the API stays paused until its time; the callback of an execution that was
#   running at dump time is accepted while its lease lasts; the other one expires at its lease's
#   end and its tasks are retried; late callbacks of finished executions are refused; the dead
#   letter can be retried; and the whole queue drains, every task succeeding.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $t0 = '2026-03-02 10:00:00+00';

# Servers with the library preloaded; no worker role, so no background worker runs: the clock
# (orchestrator.test_now, set per database) moves only when the test moves it.
sub new_node
{
	my ($name) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init;
	$node->append_conf('postgresql.conf', "shared_preload_libraries = 'orchestrator'\n");
	$node->start;
	return $node;
}

# Sets the clock of database $db (new sessions see it).
sub set_clock
{
	my ($node, $db, $at) = @_;
	$node->safe_psql('postgres', "ALTER DATABASE $db SET orchestrator.test_now = '$at'");
	return;
}

# The contents of the extension: every row of every table (ordered by its text form, times in UTC)
# and every sequence's position, one "name: ..." line each.
sub contents
{
	my ($node, $db) = @_;
	my $tables = $node->safe_psql($db, q{
		SELECT c.relname, c.relkind FROM pg_depend d JOIN pg_class c ON c.oid = d.objid
		 WHERE d.classid = 'pg_class'::regclass AND d.deptype = 'e'
		   AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'orchestrator')
		   AND c.relkind IN ('r', 'S')
		 ORDER BY 1});
	my @lines;
	for my $row (split /\n/, $tables)
	{
		my ($name, $kind) = split /\|/, $row;
		my $sql =
		  $kind eq 'S'
		  ? "SELECT last_value || ' ' || is_called FROM orchestrator.$name"
		  : "SELECT coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '(empty)')"
		  . " FROM orchestrator.$name t";
		push @lines, "$name: "
		  . $node->safe_psql($db, "SET TimeZone = 'UTC'; $sql");
	}
	return join("\n", @lines) . "\n";
}

# get_system_health() without the database row (connection counts differ between servers).
sub health
{
	my ($node, $db) = @_;
	return $node->safe_psql($db,
		"SET TimeZone = 'UTC'; SELECT component, status, value, threshold, details"
		  . " FROM orchestrator.get_system_health() WHERE component <> 'database'");
}

# Claims up to $n executions of the given types; returns [execution_id, task count] pairs.
sub dispatch
{
	my ($node, $db, $types, $n) = @_;
	my $out = $node->safe_psql($db,
		"SELECT execution_id, batch_size FROM orchestrator.orchestrate_next_execution("
		  . "'test-worker', $n, $types) ORDER BY execution_id");
	return [ map { [ split /\|/ ] } grep { length } split /\n/, $out ];
}

# ---- the source ----------------------------------------------------------------------------
my $source = new_node('source');
$source->safe_psql('postgres', 'CREATE DATABASE app');
set_clock($source, 'app', $t0);
$source->safe_psql('app', q{
CREATE EXTENSION orchestrator;
SELECT orchestrator.configure('{"daily_budget_usd": 40, "breaker_failure_threshold": 4}');
SELECT orchestrator.register_api('gemini', 60);
SELECT orchestrator.register_workflow_type('content', weight => 3, batch_max => 2,
    max_concurrent => 2, estimated_cost_usd => 1.5);
SELECT orchestrator.register_workflow_type('seo', max_attempts => 2);
SELECT orchestrator.set_workflow_type_apis('content', '{"gemini": 2}');
SELECT orchestrator.set_schedule('seo', '15 minutes', '{"sweep": true}');
SELECT orchestrator.enqueue('content', jsonb_build_object('n', i), idempotency_key => 'c' || i)
  FROM generate_series(1, 8) i;
SELECT orchestrator.enqueue('seo', '{"site": "a"}');
SELECT orchestrator.enqueue('seo', '{"site": "b"}');
});

subtest 'every table and sequence of the extension is registered for pg_dump' => sub {
	my $missing = $source->safe_psql('app', q{
		SELECT coalesce(string_agg(c.oid::regclass::text, ', ' ORDER BY c.relname), '')
		  FROM pg_depend d JOIN pg_class c ON c.oid = d.objid
		  JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'orchestrator'
		 WHERE d.classid = 'pg_class'::regclass AND d.deptype = 'e' AND c.relkind IN ('r', 'S')
		   AND c.oid <> ALL (e.extconfig)});
	is($missing, '', 'no table or sequence is left out of extconfig');
	my $counts = $source->safe_psql('app', q{
		SELECT count(*) FILTER (WHERE c.relkind = 'r') || ' ' || count(*) FILTER (WHERE c.relkind = 'S')
		  FROM pg_extension e, unnest(e.extconfig) r JOIN pg_class c ON c.oid = r
		 WHERE e.extname = 'orchestrator'});
	like($counts, qr/^1[0-9] [0-9]+$/, "tables and sequences registered: $counts");
};

# One content execution completes; two more run (content's max_concurrent is 2); one seo task
# fails for good; the other seo task hits a 429 on gemini, which pauses gemini for 2 minutes.
my $done = dispatch($source, 'app', "'{content}'", 1);
is(scalar @$done, 1, 'a content execution is dispatched');
$source->safe_psql('app',
	"SELECT orchestrator.complete_execution($done->[0][0], '{\"ok\": 1}', cost_usd => 2.5)");
my $running = dispatch($source, 'app', "'{content}'", 5);
is(scalar @$running, 2, 'two content executions run: the cap of 2');
my ($run1, $run2) = map { $_->[0] } @$running;
my $seo1 = dispatch($source, 'app', "'{seo}'", 1)->[0][0];
$source->safe_psql('app',
	"SELECT orchestrator.fail_execution($seo1, 'page gone', retryable => false)");
my $seo2 = dispatch($source, 'app', "'{seo}'", 1)->[0][0];
$source->safe_psql('app',
	"SELECT orchestrator.fail_execution($seo2, 'slow down', api_name => 'gemini',"
	  . " retry_after => '2 minutes')");

my $max_task = $source->safe_psql('app', 'SELECT max(id) FROM orchestrator.task');
my $max_exec =
  $source->safe_psql('app', 'SELECT max(id) FROM orchestrator.workflow_orchestration');
my $c3 = $source->safe_psql('app',
	"SELECT id FROM orchestrator.task WHERE idempotency_key = 'c3'");
my $source_contents = contents($source, 'app');
my $source_health = health($source, 'app');
like($source_health, qr/^workflow_type:content\|.*"running": 4/m,
	'the source has 4 content tasks running (2 executions of 2)');
like($source_health, qr/^api:gemini\|.*"paused_until": "2026-03-02T10:02:00/m,
	'the source has gemini paused');

# ---- dumps ---------------------------------------------------------------------------------
my $plain = "$PostgreSQL::Test::Utils::tmp_check/app.sql";
my $custom = "$PostgreSQL::Test::Utils::tmp_check/app.dump";
$source->command_ok([ 'pg_dump', '-d', $source->connstr('app'), '-f', $plain ],
	'pg_dump (plain) succeeds');
$source->command_ok([ 'pg_dump', '-Fc', '-d', $source->connstr('app'), '-f', $custom ],
	'pg_dump (custom format) succeeds');
like(slurp_file($plain), qr/^COPY orchestrator\.task /m, 'the plain dump holds the tasks');

my $target = new_node('target');
$target->safe_psql('postgres', 'CREATE DATABASE restored');
$target->safe_psql('postgres', 'CREATE DATABASE restored_fc');
set_clock($target, $_, $t0) for qw(restored restored_fc);
$target->command_ok(
	[
		'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $target->connstr('restored'),
		'-f', $plain
	],
	'the plain dump restores with psql and no error');
$target->command_ok(
	[ 'pg_restore', '--exit-on-error', '-d', $target->connstr('restored_fc'), $custom ],
	'the custom-format dump restores with pg_restore and no error');

subtest 'the restore holds what the source held' => sub {
	for my $db (qw(restored restored_fc))
	{
		is(contents($target, $db), $source_contents,
			"$db: every row of every table, every sequence position");
		is(health($target, $db), $source_health, "$db: get_system_health() says the same");
	}
	is($target->safe_psql('restored',
			'SELECT daily_budget_usd || \' \' || breaker_failure_threshold FROM orchestrator.config'),
		'40.000000 4', 'the configured budget and breaker threshold, not the defaults');
	is($target->safe_psql('restored', 'SELECT count(*) FROM orchestrator.config'),
		'1', 'config still has one row');
};

# ---- continuing on the restore ------------------------------------------------------------
my $db = 'restored';
is($target->safe_psql($db, "SELECT orchestrator.enqueue('content', '{}', idempotency_key => 'c3')"),
	$c3, 'a known idempotency key returns the task the source had');
my $new_task = $target->safe_psql($db, "SELECT orchestrator.enqueue('content', '{\"n\": 9}')");
cmp_ok($new_task, '>', $max_task, "a new task's id ($new_task) comes after the source's");

is(scalar @{ dispatch($target, $db, "'{content}'", 5) }, 0,
	'nothing more of content runs at once: 2 running and gemini paused');

set_clock($target, $db, '2026-03-02 10:01:00+00');
is($target->safe_psql($db,
		"SELECT orchestrator.complete_execution($run1, '{\"ok\": 2}', cost_usd => 1)"),
	'completed', 'the callback of an execution running at dump time is accepted in its lease');
is(scalar @{ dispatch($target, $db, "'{content}'", 5) }, 0,
	'gemini is still paused at 10:01');

set_clock($target, $db, '2026-03-02 10:03:00+00');
my $next = dispatch($target, $db, "'{content}'", 5);
is(scalar @$next, 1, 'after the pause, one content execution: the cap counts the one running');
cmp_ok($next->[0][0], '>', $max_exec,
	"a new execution's id ($next->[0][0]) comes after the source's");
$target->safe_psql($db, "SELECT orchestrator.complete_execution($next->[0][0])");

set_clock($target, $db, '2026-03-02 10:06:00+00');
is($target->safe_psql($db, 'SELECT orchestrator.expire_executions()'),
	'1', 'the other execution running at dump time expires at the end of its lease');
is($target->safe_psql($db,
		"SELECT status FROM orchestrator.workflow_orchestration WHERE id = $run2"),
	'expired', 'it is marked expired');
is($target->safe_psql($db,
		"SELECT string_agg(state || ' ' || attempts || ' ' || (ready_at > orchestrator.now()), ',')"
		  . " FROM orchestrator.task WHERE execution_id = $run2 OR id IN (SELECT unnest(task_ids)"
		  . " FROM orchestrator.workflow_orchestration WHERE id = $run2)"),
	'queued 1 true,queued 1 true', 'its tasks wait for their retry, one attempt used');

my ($stdout, $stderr);
$target->psql($db, "SELECT orchestrator.complete_execution($run2)",
	stdout => \$stdout, stderr => \$stderr);
like($stderr, qr/execution $run2 has expired/, 'its late callback is refused');
$target->psql($db, "SELECT orchestrator.complete_execution($done->[0][0])",
	stdout => \$stdout, stderr => \$stderr);
like($stderr, qr/execution $done->[0][0] has already finished/,
	'a second callback of the execution completed before the dump is refused');

is($target->safe_psql($db, 'SELECT orchestrator.retry_dead_letters()'),
	'1', 'the dead letter from before the dump is retried');

# Everything left drains: content, the seo retry, the retried dead letter, the schedule's task.
set_clock($target, $db, '2026-03-02 10:30:00+00');
$target->safe_psql($db, 'SELECT orchestrator.tick()');
my $rounds = 0;
while ($rounds++ < 30)
{
	my $claimed = dispatch($target, $db, 'NULL', 10);
	last unless @$claimed;
	$target->safe_psql($db, "SELECT orchestrator.complete_execution($_->[0])") for @$claimed;
}
is($target->safe_psql($db,
		"SELECT string_agg(state || ' ' || n, ', ' ORDER BY state) FROM"
		  . " (SELECT state, count(*) n FROM orchestrator.task GROUP BY state) s"),
	'succeeded 12',
	'the queue drains: the 8 content and 2 seo tasks, the new one and the schedule\'s succeed');
is($target->safe_psql($db,
		"SELECT count(*) FROM orchestrator.task WHERE payload = '{\"sweep\": true}'"),
	'1', 'the schedule restored with its payload enqueued its task');

done_testing();
