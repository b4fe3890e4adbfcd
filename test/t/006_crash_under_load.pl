# The server killed with SIGKILL in the middle of a load, then restarted. A pgbench load from 8
# clients enqueues, dispatches, completes (80 %) and fails (20 %, retryable) tasks of two workflow
# types, one of them batching and one with max_attempts 1; meanwhile an acknowledging client
# enqueues tasks one at a time and records each id once the server has acknowledged its commit.
# With fsync and synchronous_commit on, every server process (postmaster, backends, the worker) is
# killed with SIGKILL, and the server is started again (crash recovery). The test shows, with the
# SQL checks of test/crash_checks.sql:
# - right after the restart: every acknowledged enqueue exists, with its payload; no task was
#   completed twice; no task was in two executions running at once; attempts and failure histories
#   agree with the executions; running tasks and running executions agree;
# - the background worker comes back and, by itself (the test never calls expire_executions()),
#   expires every execution that was running at the crash once its 3 s lease has passed; each of
#   their tasks then has the 'lease expired' failure in its history and was sent to retry, or
#   dead-lettered when it had no attempt left;
# - after draining (dispatching and completing what is left), every task is succeeded or
#   dead-lettered, no execution is running, and the tasks of the crashed executions succeeded in a
#   later execution or were dead-lettered.
use strict;
use warnings;
use File::Basename qw(dirname);
use File::Spec;
use IPC::Run;
use Time::HiRes qw(time usleep);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use WorkerNode;

my $checks_file = File::Spec->rel2abs(dirname(__FILE__) . '/../crash_checks.sql');
my $clients = 8;
my $load_seconds = 6;    # of load before the kill, once all clients are connected

my $node = new_worker_node('crash_load', heartbeat => '2s', extra_conf => q(
# PostgreSQL::Test::Cluster turns fsync off; a crash test needs acknowledged commits on disk.
fsync = on
synchronous_commit = on
# It also logs every statement, which under load is only noise and I/O.
log_statement = none
max_connections = 40
));

# Neither the global caps nor the breakers are under test: the caps are raised so the drain can
# dispatch everything at once, and the breakers' threshold so that the load's failures and the
# crash's expiries (each counts as a failure of its type) do not stop dispatching.
$node->safe_psql(
	'postgres', q{
CREATE EXTENSION orchestrator;
SELECT orchestrator.configure('{"max_db_connections": 100000, "max_memory_mb": 100000000,
                                "breaker_failure_threshold": 1000}');
SELECT orchestrator.register_workflow_type('crash_main', weight => 2, batch_max => 3,
                                           lease_timeout => '3 seconds', max_attempts => 3);
SELECT orchestrator.register_workflow_type('crash_once', lease_timeout => '3 seconds',
                                           max_attempts => 1);
SELECT orchestrator.register_workflow_type('crash_ack', lease_timeout => '3 seconds',
                                           max_attempts => 3);
});
$node->command_ok(
	[
		'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1',
		'-d', $node->connstr('postgres'), '-f', $checks_file
	],
	'the checks of test/crash_checks.sql are loaded');

$node->poll_query_until('postgres',
	"SELECT state = 'idle' AND pass_finished_at IS NOT NULL AND alive_runner = 'worker'"
	  . " FROM orchestrator.worker_state")
  or die 'the worker did not run its start-up pass';

# The pgbench script: one round of a client. Dispatch takes any ready work (also the
# acknowledging client's tasks, and several crash_main tasks at once); the sleep of 10 to 50 ms
# is the work, so that executions are running when the server dies.
my $script = $node->basedir . '/crash_load.sql';
append_to_file(
	$script, q{\set kind random(1, 10)
SELECT orchestrator.enqueue(CASE WHEN :kind <= 7 THEN 'crash_main' ELSE 'crash_once' END, jsonb_build_object('client', :client_id)) AS task_id \gset
SELECT coalesce(max(execution_id), 0) AS eid FROM orchestrator.orchestrate_next_execution('pgbench_' || :client_id) \gset
\if :eid > 0
\set work random(10, 50)
\sleep :work ms
\set outcome random(1, 100)
\if :outcome <= 80
SELECT orchestrator.complete_execution(:eid, jsonb_build_object('client', :client_id));
\else
SELECT orchestrator.fail_execution(:eid, 'failed by pgbench client ' || :client_id);
\endif
\endif
});

# pgbench runs longer than the test needs: the kill ends it. --max-tries retries a round that hit
# a deadlock or serialization failure instead of ending the client.
my $pgbench_out = $node->basedir . '/pgbench.out';
my $pgbench_err = $node->basedir . '/pgbench.err';
my $pgbench;
{
	# The clients' application_name (PostgreSQL::Test::Utils sets PGAPPNAME to the test's name).
	local $ENV{PGAPPNAME} = 'crash_pgbench';
	$pgbench = IPC::Run::start(
		[
			'pgbench', '-n', '-c', $clients, '-j', $clients, '-T', '60',
			'--max-tries=10', '-f', $script, '-h', $node->host, '-p', $node->port,
			'postgres'
		],
		'>', $pgbench_out, '2>', $pgbench_err);
}

$node->poll_query_until('postgres',
	"SELECT count(*) = $clients FROM pg_stat_activity WHERE application_name = 'crash_pgbench'")
  or die 'the pgbench clients did not connect';

# The acknowledging client: one psql session enqueueing one task at a time (each its own
# transaction). psql runs \echo only once the enqueue's transaction has returned, so an "ack" line
# means the server acknowledged the commit.
my ($ack_in, $ack_out, $ack_err) = ('', '', '');
my $ack = IPC::Run::start(
	[
		'psql', '-XAtq', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('postgres'),
		'-f', '-'
	],
	'<', \$ack_in, '>', \$ack_out, '2>', \$ack_err,
	IPC::Run::timeout($PostgreSQL::Test::Utils::timeout_default));

# Hands enqueue number $n to psql.
sub send_enqueue
{
	my ($n) = @_;
	$ack_in .= "SELECT orchestrator.enqueue('crash_ack', jsonb_build_object('ack', $n))"
	  . " AS id \\gset\n\\echo ack $n :id\n";
	return;
}

my $sent = 0;
my $kill_at = time + $load_seconds;
while (time < $kill_at)
{
	send_enqueue(++$sent);
	$ack->pump until $ack_out =~ /^ack $sent \d+$/m || $ack_err ne '';
	die "the acknowledging client failed: $ack_err" if $ack_err ne '';
}
# How many pgbench clients are still connected just before the kill.
my $clients_at_kill = $node->safe_psql('postgres',
	"SELECT count(*) FROM pg_stat_activity WHERE application_name = 'crash_pgbench'");

# SIGKILL for every process of the server, as if the machine had died. The postmaster is stopped
# first so that it starts nothing more (its backends and the worker go on working meanwhile);
# its children are found, one more enqueue is handed to the acknowledging client, and the
# children and the postmaster are killed while that enqueue is most likely in flight: it may or
# may not be committed, and counts as acknowledged only if its line arrived.
my $postmaster = slurp_file($node->data_dir . '/postmaster.pid');
$postmaster =~ s/\n.*//s;
my $log_offset = -s $node->logfile;
kill 'STOP', $postmaster;
my @children;
opendir(my $proc, '/proc') or die "/proc: $!";
for my $pid (grep { /^\d+$/ } readdir $proc)
{
	open(my $fh, '<', "/proc/$pid/stat") or next;
	my $stat = <$fh>;
	close $fh;
	push @children, $pid
	  if defined $stat && $stat =~ /^\d+ \(.*\) \S+ (\d+) /s && $1 == $postmaster;
}
closedir $proc;
send_enqueue(++$sent);
$ack->pump_nb;
usleep(500);
kill 'KILL', @children;
$node->kill9;    # the postmaster; the node is now known to be down
note "killed the postmaster $postmaster and " . scalar(@children) . ' children';

# The clients lose their connections and end.
eval { $ack->finish; 1 } or note "psql: $@";
$pgbench->finish;
my %acked;    # ack number => task id, for the enqueues acknowledged before the kill
$acked{$1} = $2 while $ack_out =~ /^ack (\d+) (\d+)$/mg;
# Client errors other than the lost connection, before the kill: none is expected.
my $lost_connection = join '|', 'perhaps the backend died', 'server closed the connection',
  'connection to server', 'could not send data', 'no connection to the server',
  'Run was aborted';
my @client_errors = grep { /error|aborted/i && !/$lost_connection/ } split /\n/,
  slurp_file($pgbench_err);

# The old postmaster must be gone (reaped) before a new one takes its data directory.
my $deadline = time + $PostgreSQL::Test::Utils::timeout_default;
usleep(50_000) while kill(0, $postmaster) && time < $deadline;
$node->start;

my $crashed = $node->safe_psql('postgres', 'SELECT crash_check.record_running_at_crash()');
$node->safe_psql('postgres',
	'INSERT INTO crash_check.acknowledged (ack_no, task_id) VALUES '
	  . join(', ', map { "($_, $acked{$_})" } sort { $a <=> $b } keys %acked))
  if %acked;

# Runs the checks of a phase; each must find no violation.
sub run_checks
{
	my ($phase, $expected) = @_;
	my @rows = split /\n/,
	  $node->safe_psql('postgres',
		"SELECT check_name, violations, sample FROM crash_check.checks('$phase')");
	is(scalar @rows, $expected, "$phase: $expected checks run");
	for my $row (@rows)
	{
		my ($name, $violations, $sample) = split /\|/, $row, 3;
		is($violations, '0', "$phase: no $name")
		  or diag "offending ids (first 10): $sample";
	}
	return;
}

# How many of each, as "label n, label n" for diag.
sub counts
{
	my ($sql) = @_;
	return join ', ', map { s/\|/ /r } split /\n/, $node->safe_psql('postgres', $sql);
}

subtest 'the server crashed under load and recovered' => sub {
	like(
		slurp_file($node->logfile, $log_offset),
		qr/database system was not properly shut down; automatic recovery in progress/,
		'the restart ran crash recovery');
	cmp_ok(scalar(keys %acked), '>', 0, 'the acknowledging client had enqueues acknowledged');
	# A client ends at its first error other than a deadlock or serialization failure (such as a
	# callback after a lease of 3 s passed, on a stalled machine): reported, not asserted.
	cmp_ok($clients_at_kill, '>', 0, 'the pgbench load was on just before the kill');
	diag "only $clients_at_kill of $clients pgbench clients were connected at the kill"
	  if $clients_at_kill != $clients;
	is( $node->safe_psql('postgres',
			"SELECT count(*) FILTER (WHERE status = 'completed') > 0"
			  . " AND count(*) FILTER (WHERE status = 'failed') > 0"
			  . " FROM orchestrator.workflow_orchestration WHERE workflow_type <> 'orchestrator'"),
		't',
		'the load completed and failed executions before the crash');
	cmp_ok($crashed, '>', 0, 'executions were running at the crash');
	diag join "\n", 'pgbench client errors before the crash:', @client_errors if @client_errors;
};

subtest 'right after the restart' => sub { run_checks('restart', 10); };

subtest 'the worker comes back and expires the executions running at the crash' => sub {
	ok( $node->poll_query_until('postgres',
			"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'orchestrator worker'"),
		'a worker process runs again');
	my $worker = $node->safe_psql('postgres',
		"SELECT pid FROM pg_stat_activity WHERE backend_type = 'orchestrator worker'");
	ok( $node->poll_query_until('postgres',
			"SELECT alive_pid = $worker AND alive_runner = 'worker'"
			  . " AND alive_at > pg_postmaster_start_time() FROM orchestrator.worker_state"),
		'it records its liveness after the restart');
	ok( $node->poll_query_until('postgres',
			"SELECT count(*) = 0 FROM crash_check.running_at_crash r"
			  . " JOIN orchestrator.workflow_orchestration e ON e.id = r.execution_id"
			  . " WHERE e.status = 'running'"),
		'every execution running at the crash is ended, by the worker (nothing else expires leases)');
	run_checks('expired', 13);
};

# Draining: dispatch and complete until nothing is queued or running. The tasks sent to retry wait
# for their backoff (1 min ± 30 s, then 2 min...); ready_at is moved to now only so that the test
# does not wait for it, nothing else is changed by hand.
my $rounds = 0;
while (1)
{
	my $left = $node->safe_psql(
		'postgres', q{
UPDATE orchestrator.task SET ready_at = now() WHERE state = 'queued' AND ready_at > now();
SELECT count(*) FROM orchestrator.task WHERE state IN ('queued', 'running');
});
	last if $left eq '0';
	die "still $left tasks queued or running after $rounds rounds of draining" if ++$rounds > 50;
	my $executions = $node->safe_psql('postgres',
		"SELECT string_agg(execution_id::text, ',')"
		  . " FROM orchestrator.orchestrate_next_execution('drain', 1000)");
	$node->safe_psql('postgres',
		"SELECT count(orchestrator.complete_execution(e))"
		  . " FROM unnest('{$executions}'::bigint[]) e")
	  if $executions ne '';
}

subtest 'after draining' => sub { run_checks('drained', 15); };

my $last_exists = $node->safe_psql('postgres',
	"SELECT count(*) FROM orchestrator.task WHERE payload = '{\"ack\": $sent}'");
diag 'acknowledged enqueues: ' . scalar(keys %acked) . " of $sent sent (the last one was handed"
  . ' to psql at the kill; its task ' . ($last_exists ? 'exists)' : 'does not exist)');
diag "tasks: "
  . counts("SELECT state, count(*) FROM orchestrator.task GROUP BY 1 ORDER BY 1");
diag "executions: "
  . counts("SELECT status, count(*) FROM orchestrator.workflow_orchestration"
	  . " WHERE workflow_type <> 'orchestrator' GROUP BY 1 ORDER BY 1");
diag "running at the crash: $crashed ("
  . $node->safe_psql('postgres',
	'SELECT count(*) FILTER (WHERE NOT still_running) FROM crash_check.running_at_crash')
  . " already expired by the worker when recorded right after the restart); expired afterwards: "
  . $node->safe_psql('postgres',
	"SELECT count(*) FROM crash_check.running_at_crash r JOIN orchestrator.workflow_orchestration e"
	  . " ON e.id = r.execution_id WHERE e.status = 'expired'")
  . "; their tasks: "
  . counts("SELECT t.state, count(*) FROM crash_check.running_at_crash r,"
	  . " unnest(r.task_ids) u(id) JOIN orchestrator.task t ON t.id = u.id GROUP BY 1 ORDER BY 1");
diag "draining rounds: $rounds";
diag "pgbench: $1"
  if slurp_file($pgbench_out) =~ /(number of transactions actually processed: \d+)/;

$node->stop;
done_testing();
