# The background worker's start-up under shared_preload_libraries = 'orchestrator':
# - with orchestrator.worker_role unset (or set to the bootstrap superuser) it logs why it does
#   not start, exits, and the postmaster does not start it again;
# - with a worker role but no CREATE EXTENSION yet, it waits, saying so once in the log however
#   long it waits, and starts working as soon as the extension exists;
# - once working it runs a whole pass (idle -> analyzing -> dispatching -> monitoring -> idle,
#   each transition stored with runner 'worker'), and records its liveness (its own pid,
#   runner 'worker', a time that keeps advancing) without running further passes before the
#   heartbeat interval is up.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use WorkerNode;

my $node = PostgreSQL::Test::Cluster->new('worker');
$node->init;
$node->append_conf('postgresql.conf', worker_conf('1h'));
$node->start;

# How many times the log, from $offset on, matches $regex.
sub log_count
{
	my ($regex, $offset) = @_;
	my $log = slurp_file($node->logfile, $offset);
	my @hits = $log =~ /$regex/g;
	return scalar @hits;
}

# Waits for the worker process to exist and returns its pid.
sub wait_worker_pid
{
	$node->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'orchestrator worker'")
	  or die 'the worker process did not appear';
	return worker_pids($node);
}

my $not_set = qr/orchestrator worker: not started, orchestrator\.worker_role is not set/;

subtest 'without orchestrator.worker_role the worker does not start' => sub {
	$node->wait_for_log($not_set);
	is(worker_pids($node), '', 'no worker process exists');
	# The postmaster would restart a worker that failed after 5 s (bgw_restart_time); wait
	# past that and see it was not.
	$node->poll_query_until('postgres',
		"SELECT now() > pg_postmaster_start_time() + interval '8 s'")
	  or die 'the clock did not advance';
	is(log_count($not_set), 1, 'the "not started" line is logged once: no restart');
	is(worker_pids($node), '', 'still no worker process after its restart time');
};

subtest 'the bootstrap superuser is refused as the worker role' => sub {
	my $bootstrap =
	  $node->safe_psql('postgres', 'SELECT rolname FROM pg_authid WHERE oid = 10');
	$node->append_conf('postgresql.conf', "orchestrator.worker_role = '$bootstrap'");
	my $offset = -s $node->logfile;
	$node->restart;
	$node->wait_for_log(
		qr/orchestrator worker: not started, orchestrator\.worker_role must not be the bootstrap superuser/,
		$offset);
	is(worker_pids($node), '', 'no worker process exists');
};

# A role of its own for the worker, before it starts.
$node->safe_psql('postgres', 'CREATE ROLE orchestrator_pulse LOGIN SUPERUSER');
$node->append_conf('postgresql.conf', "orchestrator.worker_role = 'orchestrator_pulse'");
my $offset = -s $node->logfile;
$node->restart;

my $waiting =
  qr/orchestrator worker: waiting for CREATE EXTENSION orchestrator in database "postgres"/;
my $pid;

subtest 'before CREATE EXTENSION the worker waits and says so once' => sub {
	$node->wait_for_log($waiting, $offset);
	$pid = wait_worker_pid();
	like($pid, qr/^\d+$/, 'one worker process runs');
	is( $node->safe_psql('postgres',
			"SELECT usename FROM pg_stat_activity WHERE pid = $pid"),
		'orchestrator_pulse',
		'it is connected as orchestrator.worker_role');
	# It looks for the extension every liveness interval (200 ms), each time in a transaction
	# of its own, which moves its state_change: wait until it has looked for well over a second.
	my $seen = $node->safe_psql('postgres', 'SELECT clock_timestamp()');
	$node->poll_query_until('postgres',
		"SELECT state_change > '$seen'::timestamptz + interval '1.5 s'"
		  . " FROM pg_stat_activity WHERE pid = $pid")
	  or die 'the waiting worker did not keep looking';
	is(worker_pids($node), $pid, 'the same worker process is still waiting');
	is(log_count($waiting, $offset), 1, 'the waiting line is logged exactly once');
	is( $node->safe_psql('postgres',
			"SELECT count(*) FROM pg_extension WHERE extname = 'orchestrator'"),
		'0',
		'the worker did not create the extension itself');
};

$node->safe_psql('postgres', 'CREATE EXTENSION orchestrator');

subtest 'once the extension exists the worker runs a whole pass' => sub {
	ok( $node->poll_query_until('postgres',
			"SELECT state = 'idle' AND pass_finished_at IS NOT NULL FROM orchestrator.worker_state"
		),
		'the stored state machine is back at idle after a pass');
	is( $node->safe_psql('postgres',
			"SELECT string_agg(from_state || '->' || to_state || ' ' || runner || ' ' || reason,"
			  . " ', ' ORDER BY id) FROM orchestrator.worker_transition"),
		'idle->analyzing worker heartbeat, analyzing->dispatching worker heartbeat, '
		  . 'dispatching->monitoring worker heartbeat, monitoring->idle worker heartbeat',
		'the pass is stored as four transitions in order, each by the worker');
	is( $node->safe_psql('postgres',
			"SELECT bool_and(at >= lag_at) FROM (SELECT at, lag(at, 1, at) OVER (ORDER BY id)"
			  . " AS lag_at FROM orchestrator.worker_transition) t"),
		't',
		'the transitions\' times never go backwards');
	is( $node->safe_psql('postgres',
			'SELECT pass_started_at <= pass_finished_at AND failures = 0 AND last_error IS NULL'
			  . ' FROM orchestrator.worker_state'),
		't',
		'the pass started before it finished, without a failure');
	is(worker_pids($node), $pid, 'the worker that waited is the one that works');
	is(log_count($waiting, $offset), 1, 'no further waiting line once the extension exists');
	unlike(
		slurp_file($node->logfile, $offset),
		qr/orchestrator worker: .* failed/,
		'the worker logged no failure');
};

subtest 'the worker records its liveness' => sub {
	ok( $node->poll_query_until('postgres',
			"SELECT alive_runner = 'worker' AND alive_pid = $pid FROM orchestrator.worker_state"),
		'liveness is recorded by the worker');
	is( $node->safe_psql('postgres',
			"SELECT alive_pid FROM orchestrator.worker_state"),
		$pid,
		'alive_pid is the worker\'s pid in pg_stat_activity');
	my $alive_at = $node->safe_psql('postgres', 'SELECT alive_at FROM orchestrator.worker_state');
	ok( $node->poll_query_until('postgres',
			"SELECT alive_at > '$alive_at'::timestamptz + interval '1 s'"
			  . " FROM orchestrator.worker_state"),
		'alive_at keeps advancing, every liveness interval');
	is( $node->safe_psql('postgres',
			"SELECT alive_runner || ' ' || alive_pid FROM orchestrator.worker_state"),
		"worker $pid",
		'still the same worker recording it');
	is($node->safe_psql('postgres', 'SELECT count(*) FROM orchestrator.worker_transition'),
		'4', 'liveness records are not passes: none more within the 1 h heartbeat interval');
};

$node->stop;
done_testing();
