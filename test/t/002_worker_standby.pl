# The background worker on a streaming standby: it starts only once recovery has finished
# (BgWorkerStart_RecoveryFinished). While the node is a standby no worker process exists there
# and orchestrator.worker_state holds only what replication brought from the primary (the
# primary's worker's pid). Once the standby is promoted the worker starts on it, records its
# liveness with its own pid there, and runs a whole pass.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use WorkerNode;

my $primary = new_worker_node('primary', init => { allows_streaming => 1 });
$primary->safe_psql('postgres', 'CREATE EXTENSION orchestrator');

$primary->poll_query_until('postgres',
	"SELECT state = 'idle' AND pass_finished_at IS NOT NULL AND alive_runner = 'worker'"
	  . " FROM orchestrator.worker_state")
  or die 'the primary\'s worker did not run its start-up pass';
my $primary_pid = worker_pids($primary);

$primary->backup('backup');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'backup', has_streaming => 1);
$standby->start;

my $start = $standby->safe_psql('postgres', 'SELECT clock_timestamp()');
my $standby_log_offset = 0;

subtest 'no worker on the standby' => sub {
	is($standby->safe_psql('postgres', 'SELECT pg_is_in_recovery()'),
		't', 'the standby is in recovery');
	is($standby->safe_psql('postgres', 'SHOW orchestrator.worker_role'),
		'orchestrator_pulse', 'it has the same worker settings as the primary');
	# The primary's worker records liveness every 200 ms; once the standby has replayed a
	# record made well after it started, it has been running for a while.
	ok( $standby->poll_query_until('postgres',
			"SELECT alive_at > '$start'::timestamptz + interval '2 s'"
			  . " FROM orchestrator.worker_state"),
		'the standby replays the primary\'s liveness records');
	is(worker_pids($standby), '', 'no orchestrator worker process on the standby');
	is( $standby->safe_psql('postgres',
			'SELECT alive_pid, alive_runner FROM orchestrator.worker_state'),
		"$primary_pid|worker",
		'worker_state on the standby names the primary\'s worker');
	is( $standby->safe_psql('postgres',
			"SELECT count(*) FROM pg_stat_activity WHERE pid = $primary_pid"),
		'0',
		'a pid that is no process of the standby');
	is( $standby->safe_psql('postgres', 'SELECT count(*) FROM orchestrator.worker_transition'),
		'4', 'the standby has only the primary\'s start-up pass');
	unlike(
		slurp_file($standby->logfile),
		qr/orchestrator worker: |background worker "orchestrator worker"/,
		'the standby\'s log has no line from or about the worker');
};

# The primary goes away; the standby takes over.
$primary->stop;
my $transitions_before = $standby->safe_psql('postgres',
	'SELECT max(id) FROM orchestrator.worker_transition');
$standby_log_offset = -s $standby->logfile;
$standby->promote;

subtest 'after promotion the worker starts on the promoted node' => sub {
	ok( $standby->poll_query_until('postgres', 'SELECT NOT pg_is_in_recovery()'),
		'the standby is promoted');
	ok( $standby->poll_query_until('postgres',
			"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'orchestrator worker'"
		),
		'an orchestrator worker process runs on it');
	my $pid = worker_pids($standby);
	like($pid, qr/^\d+$/, 'exactly one');
	isnt($pid, $primary_pid, 'not the old primary\'s worker');
	ok( $standby->poll_query_until('postgres',
			"SELECT alive_pid = $pid AND alive_runner = 'worker' FROM orchestrator.worker_state"),
		'it records its liveness with its own pid');
	my $alive_at =
	  $standby->safe_psql('postgres', 'SELECT alive_at FROM orchestrator.worker_state');
	ok( $standby->poll_query_until('postgres',
			"SELECT alive_at > '$alive_at'::timestamptz FROM orchestrator.worker_state"),
		'and keeps recording it');
	ok( $standby->poll_query_until('postgres',
			"SELECT state = 'idle' AND (SELECT count(*) FROM orchestrator.worker_transition"
			  . " WHERE id > $transitions_before) = 4 FROM orchestrator.worker_state"),
		'it runs a pass');
	is( $standby->safe_psql('postgres',
			"SELECT string_agg(from_state || '->' || to_state || ' ' || runner, ', ' ORDER BY id)"
			  . " FROM orchestrator.worker_transition WHERE id > $transitions_before"),
		'idle->analyzing worker, analyzing->dispatching worker, '
		  . 'dispatching->monitoring worker, monitoring->idle worker',
		'a whole pass, in order, by the worker');
	unlike(
		slurp_file($standby->logfile, $standby_log_offset),
		qr/orchestrator worker: .* failed/,
		'the promoted node\'s worker logged no failure');
};

$standby->stop;
done_testing();
