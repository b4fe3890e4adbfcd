# The background worker killed with SIGKILL mid-pass: the postmaster reinitializes the cluster
# (crash recovery), starts the worker again with a new pid, and the new worker resumes the pass
# from the step stored in orchestrator.worker_state. With the stored state at 'dispatching', its
# first pass runs dispatching again without a transition, then stores dispatching -> monitoring
# and monitoring -> idle; it records its own liveness. Also the worker ended by SIGTERM
# (pg_terminate_backend): it exits with code 1, and the postmaster alone starts it again after its
# restart time (no crash recovery); the new worker resumes from the stored step, here 'analyzing'.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use WorkerNode;

my $node = new_worker_node('crash', heartbeat => '1h', extra_conf => q(
restart_after_crash = on
));
$node->safe_psql('postgres', 'CREATE EXTENSION orchestrator');

# The transitions after id $after, as "from->to runner" in order.
sub transitions_after
{
	my ($after) = @_;
	return $node->safe_psql('postgres',
		"SELECT string_agg(from_state || '->' || to_state || ' ' || runner, ', ' ORDER BY id)"
		  . " FROM orchestrator.worker_transition WHERE id > $after");
}

# The first pass, at the worker's start, then a quiet hour.
$node->poll_query_until('postgres',
	"SELECT state = 'idle' AND pass_finished_at IS NOT NULL AND alive_runner = 'worker'"
	  . " FROM orchestrator.worker_state")
  or die 'the worker did not run its first pass';
my $old_pid = worker_pids($node);
like($old_pid, qr/^\d+$/, 'one worker process runs before the crash');

# A pass cut short: the stored state is put at 'dispatching', as if the worker had stored that
# step and died.
$node->safe_psql('postgres', q(
UPDATE orchestrator.worker_state SET state = 'analyzing';
UPDATE orchestrator.worker_state SET state = 'dispatching';
));
my $last_id =
  $node->safe_psql('postgres', 'SELECT max(id) FROM orchestrator.worker_transition');
is($node->safe_psql('postgres', 'SELECT state FROM orchestrator.worker_state'),
	'dispatching', 'the stored state is dispatching before the kill');

my $offset = -s $node->logfile;
kill 'KILL', $old_pid or die "could not kill $old_pid: $!";
my $new_pid;

subtest 'the worker comes back after SIGKILL' => sub {
	ok( $node->wait_for_log(
			qr/background worker "orchestrator worker" \(PID $old_pid\) was terminated by signal 9/,
			$offset),
		'the postmaster saw the worker killed by signal 9');
	ok($node->wait_for_log(qr/all server processes terminated; reinitializing/, $offset),
		'the postmaster reinitialized the cluster');
	ok($node->poll_query_until('postgres', 'SELECT 1', '1'),
		'the cluster accepts connections again after crash recovery');
	ok( $node->poll_query_until('postgres',
			"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'orchestrator worker'"
			  . " AND pid <> $old_pid"),
		'a worker process runs again');
	$new_pid = worker_pids($node);
	like($new_pid, qr/^\d+$/, 'exactly one worker process');
	isnt($new_pid, $old_pid, 'the worker has a new pid');
};

subtest 'the new worker resumes the pass from the stored step' => sub {
	ok( $node->poll_query_until('postgres',
			"SELECT state = 'idle' FROM orchestrator.worker_state"),
		'the stored state machine reaches idle again');
	is( transitions_after($last_id),
		'dispatching->monitoring worker, monitoring->idle worker',
		'after the crash the first transitions continue from dispatching, by the worker');
	is( $node->safe_psql('postgres',
			'SELECT failures = 0 AND last_error IS NULL FROM orchestrator.worker_state'),
		't',
		'the resumed pass completed without a failure');
	ok( $node->poll_query_until('postgres',
			"SELECT alive_pid = $new_pid AND alive_runner = 'worker' FROM orchestrator.worker_state"
		),
		'liveness is recorded by the new worker, with its pid');
	unlike(
		slurp_file($node->logfile, $offset),
		qr/orchestrator worker: .* failed/,
		'the restarted worker logged no failure');
};

subtest 'the worker ended by SIGTERM is started again and resumes' => sub {
	$node->safe_psql('postgres', "UPDATE orchestrator.worker_state SET state = 'analyzing'");
	my $last = $node->safe_psql('postgres', 'SELECT max(id) FROM orchestrator.worker_transition');
	my $offset = -s $node->logfile;
	is($node->safe_psql('postgres', "SELECT pg_terminate_backend($new_pid)"),
		't', 'the worker is sent SIGTERM');
	ok( $node->wait_for_log(
			qr/background worker "orchestrator worker" \(PID $new_pid\) exited with exit code 1/,
			$offset),
		'it exits with code 1');
	ok( $node->poll_query_until('postgres',
			"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'orchestrator worker'"
			  . " AND pid <> $new_pid"),
		'a worker process runs again');
	my $third_pid = worker_pids($node);
	like($third_pid, qr/^\d+$/, 'exactly one worker process');
	isnt($third_pid, $new_pid, 'with a new pid');
	ok( $node->poll_query_until('postgres',
			"SELECT state = 'idle' AND alive_pid = $third_pid FROM orchestrator.worker_state"),
		'the new worker brings the stored state back to idle and records its liveness');
	is( transitions_after($last),
		'analyzing->dispatching worker, dispatching->monitoring worker, monitoring->idle worker',
		'its first transitions continue from analyzing');
	my $log = slurp_file($node->logfile, $offset);
	unlike($log, qr/reinitializing/, 'no crash recovery this time');
	unlike($log, qr/orchestrator worker: .* failed/, 'the worker logged no failure');
};

$node->stop;
done_testing();
