# The background worker's error recovery, and the extension dropped and created again under it.
# - A heartbeat pass that fails (here the ANALYZING step: expiring a lease sends the task back to
#   retry, and a trigger on the task raises 'injected failure') moves the stored state machine to error_recovery: last_error holds
#   the error, failures counts the failed passes in a row, recover_after is the end of the
#   backoff (5 s after the first failure, 10 s after the second), and the transition to
#   error_recovery is stored with the error as its reason. The worker tries again only once the
#   backoff is over; once the cause is gone it goes error_recovery -> idle -> analyzing ->
#   dispatching -> monitoring -> idle by itself, failures back to 0, and the lease is expired.
# - DROP EXTENSION under the running worker: the same worker process waits for CREATE EXTENSION,
#   saying so once, without crashing; after CREATE EXTENSION it runs its passes and records its
#   liveness in the new extension's tables, without a failure from the old ones.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use WorkerNode;

my $node = new_worker_node('recovery', heartbeat => '1s');
$node->safe_psql('postgres', 'CREATE EXTENSION orchestrator');

$node->poll_query_until('postgres',
	"SELECT state = 'idle' AND pass_finished_at IS NOT NULL AND alive_runner = 'worker'"
	  . " FROM orchestrator.worker_state")
  or die 'the worker did not run its start-up pass';
my $pid = worker_pids($node);
like($pid, qr/^\d+$/, 'one worker process runs');

# How many lines of the worker process itself (log_line_prefix '%m [%p] ...'), from $offset on,
# match $regex. The server logs every statement of the test too (log_statement = all), so a line
# of another process may well contain the same words.
sub worker_log_count
{
	my ($regex, $offset) = @_;
	my @hits = grep { /\[$pid\] / && /$regex/ } split /\n/,
	  slurp_file($node->logfile, $offset);
	return scalar @hits;
}

# The postmaster's lines about the worker process ending, from $offset on.
sub worker_ended_count
{
	my ($offset) = @_;
	my @hits = slurp_file($node->logfile, $offset) =~
	  /background worker "orchestrator worker" \(PID $pid\) (?:was terminated|exited)/g;
	return scalar @hits;
}

my $start_offset = 0;
my $failed_line = qr/orchestrator worker: heartbeat failed: injected failure$/;

# The execution whose lease the ANALYZING step is to expire, and a trigger that makes expiring it
# fail when its task is sent back to retry (an UPDATE statement; the execution row itself is
# written without one, and a table written that way refuses triggers). Both commit together, before the 1 s lease ends (it is counted from this transaction's
# start), so no pass can expire it first.
$node->safe_psql('postgres', q{
CREATE FUNCTION public.inject_failure() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'injected failure';
END $$;
SELECT orchestrator.register_workflow_type('fragile', lease_timeout => interval '1 second');
SELECT orchestrator.enqueue('fragile', '{"n": 1}');
});
my $execution = $node->safe_psql('postgres', q{
BEGIN;
SELECT execution_id FROM orchestrator.orchestrate_next_execution('w', 1);
CREATE TRIGGER inject_failure BEFORE UPDATE ON orchestrator.task
    FOR EACH ROW EXECUTE FUNCTION public.inject_failure();
COMMIT;
});
like($execution, qr/^\d+$/, 'one execution is dispatched, with a 1 s lease');

my ($first_error_id, $first_error_at, $second_error_at);

subtest 'a failed pass enters error recovery with a 5 s backoff' => sub {
	ok( $node->poll_query_until('postgres',
			"SELECT state = 'error_recovery' FROM orchestrator.worker_state"),
		'the stored state reaches error_recovery');
	is( $node->safe_psql('postgres',
			"SELECT failures || ' ' || last_error || ' ' || (recover_after - entered_at)"
			  . " FROM orchestrator.worker_state"),
		'1 injected failure 00:00:05',
		'failures = 1, last_error is the error, recover_after 5 s after entering');
	($first_error_id, $first_error_at) = split /\|/,
	  $node->safe_psql('postgres',
		"SELECT id, at FROM orchestrator.worker_transition WHERE to_state = 'error_recovery'");
	like($first_error_id, qr/^\d+$/, 'one transition to error_recovery is stored');
	is( $node->safe_psql('postgres',
			"SELECT t.from_state || '->' || t.to_state || ' ' || t.runner || ' ' || t.reason,"
			  . " t.at = s.entered_at, s.recover_after - t.at"
			  . " FROM orchestrator.worker_transition t, orchestrator.worker_state s"
			  . " WHERE t.id = $first_error_id"),
		'analyzing->error_recovery worker injected failure|t|00:00:05',
		'it left analyzing, by the worker, with the error as its reason, 5 s before recover_after'
	);
	is( $node->safe_psql('postgres',
			"SELECT status FROM orchestrator.workflow_orchestration WHERE id = $execution"),
		'running',
		'the execution whose expiry failed is still running');
	is(worker_log_count($failed_line, $start_offset),
		1, 'the worker logged "heartbeat failed: injected failure" once');
};

subtest 'while the cause remains, the next attempt fails after the backoff, then waits 10 s'
  => sub {
	ok( $node->poll_query_until('postgres',
			"SELECT state = 'error_recovery' AND failures = 2 FROM orchestrator.worker_state"),
		'the stored state is error_recovery again, with failures = 2');
	is( $node->safe_psql('postgres',
			"SELECT last_error || ' ' || (recover_after - entered_at)"
			  . " FROM orchestrator.worker_state"),
		'injected failure 00:00:10',
		'last_error is the error, recover_after 10 s after entering: the backoff doubled');
	is( $node->safe_psql('postgres',
			"SELECT string_agg(from_state || '->' || to_state || ' ' || runner || ' ' || reason,"
			  . " ', ' ORDER BY id) FROM orchestrator.worker_transition WHERE id >= $first_error_id"
		),
		'analyzing->error_recovery worker injected failure, '
		  . 'error_recovery->idle worker heartbeat, idle->analyzing worker heartbeat, '
		  . 'analyzing->error_recovery worker injected failure',
		'the retry went back to idle, started a pass and failed in analyzing again');
	my $retry_after = $node->safe_psql('postgres',
		"SELECT min(at) - '$first_error_at'::timestamptz FROM orchestrator.worker_transition"
		  . " WHERE id > $first_error_id");
	ok( $node->safe_psql('postgres',
			"SELECT '$retry_after'::interval BETWEEN interval '5 s' AND interval '7 s'"),
		"the retry came once the 5 s backoff was over ($retry_after after the failure)");
	$second_error_at = $node->safe_psql('postgres',
		"SELECT entered_at FROM orchestrator.worker_state");
	is(worker_log_count($failed_line, $start_offset),
		2, 'the worker logged "heartbeat failed: injected failure" twice');
};

# The cause goes away.
$node->safe_psql('postgres',
	'DROP TRIGGER inject_failure ON orchestrator.task');

subtest 'once the cause is gone the worker recovers by itself' => sub {
	ok( $node->poll_query_until('postgres',
			"SELECT state = 'idle' AND failures = 0 FROM orchestrator.worker_state"),
		'the stored state is idle again, with failures = 0');
	is( $node->safe_psql('postgres',
			"SELECT string_agg(from_state || '->' || to_state || ' ' || runner || ' ' || reason,"
			  . " ', ' ORDER BY id) FROM (SELECT * FROM orchestrator.worker_transition"
			  . " WHERE id > $first_error_id ORDER BY id OFFSET 3 LIMIT 5) t"),
		'error_recovery->idle worker heartbeat, idle->analyzing worker heartbeat, '
		  . 'analyzing->dispatching worker heartbeat, dispatching->monitoring worker heartbeat, '
		  . 'monitoring->idle worker heartbeat',
		'after the second failure: error_recovery -> idle and a whole pass, by the worker');
	my $retry_after = $node->safe_psql('postgres',
		"SELECT min(at) - '$second_error_at'::timestamptz FROM orchestrator.worker_transition"
		  . " WHERE at > '$second_error_at'::timestamptz");
	ok( $node->safe_psql('postgres',
			"SELECT '$retry_after'::interval BETWEEN interval '10 s' AND interval '12 s'"),
		"the recovering attempt came once the 10 s backoff was over ($retry_after after)");
	is( $node->safe_psql('postgres',
			"SELECT (recover_after IS NULL) || ' ' || (pass_finished_at = entered_at) || ' '"
			  . " || last_error FROM orchestrator.worker_state"),
		'true true injected failure',
		'no backoff is pending, the pass finished as idle was entered;'
		  . ' last_error keeps the last failure');
	is( $node->safe_psql('postgres',
			"SELECT status || ' ' || error FROM orchestrator.workflow_orchestration"
			  . " WHERE id = $execution"),
		'expired lease expired',
		'the execution\'s lease is expired now');
	is(worker_log_count($failed_line, $start_offset),
		2, 'no further "heartbeat failed" line');
	is(worker_log_count(qr/orchestrator worker: entering error recovery failed/, $start_offset),
		0, 'entering error recovery never failed');
	is(worker_pids($node), $pid, 'the same worker process throughout');
	is(worker_ended_count($start_offset), 0, 'the worker never ended');
};

my $waiting =
  qr/orchestrator worker: waiting for CREATE EXTENSION orchestrator in database "postgres"/;

subtest 'DROP EXTENSION under the running worker' => sub {
	my $offset = -s $node->logfile;
	$node->safe_psql('postgres', 'DROP EXTENSION orchestrator');
	$node->wait_for_log(qr/\[$pid\] .*$waiting/, $offset);
	is(worker_log_count($waiting, $offset), 1, 'the worker says it waits for CREATE EXTENSION');
	# It looks for the extension every liveness interval (200 ms): let it look for a while.
	my $seen = $node->safe_psql('postgres', 'SELECT clock_timestamp()');
	ok( $node->poll_query_until('postgres',
			"SELECT state_change > '$seen'::timestamptz + interval '1.5 s'"
			  . " FROM pg_stat_activity WHERE pid = $pid"),
		'the same worker process keeps looking for the extension');
	is(worker_pids($node), $pid, 'the same worker process, still');
	is(worker_log_count($waiting, $offset), 1, 'the waiting line is logged once');
	is(worker_ended_count($offset), 0, 'no "terminated by signal" or "exited" line for it');
	is( $node->safe_psql('postgres',
			"SELECT (SELECT count(*) FROM pg_extension WHERE extname = 'orchestrator')"
			  . " || ' ' || (to_regclass('orchestrator.worker_state') IS NULL)"),
		'0 true',
		'the extension and its tables are gone');
};

subtest 'after CREATE EXTENSION the worker works in the new tables' => sub {
	my $offset = -s $node->logfile;
	$node->safe_psql('postgres', 'CREATE EXTENSION orchestrator');
	ok( $node->poll_query_until('postgres',
			"SELECT state = 'idle' AND pass_finished_at IS NOT NULL AND alive_pid = $pid"
			  . " AND alive_runner = 'worker' FROM orchestrator.worker_state"),
		'the new worker_state shows a finished pass and the worker\'s liveness, with its pid');
	is( $node->safe_psql('postgres',
			"SELECT string_agg(id || ' ' || from_state || '->' || to_state || ' ' || runner"
			  . " || ' ' || reason, ', ' ORDER BY id)"
			  . " FROM (SELECT * FROM orchestrator.worker_transition ORDER BY id LIMIT 4) t"),
		'1 idle->analyzing worker heartbeat, 2 analyzing->dispatching worker heartbeat, '
		  . '3 dispatching->monitoring worker heartbeat, 4 monitoring->idle worker heartbeat',
		'the new worker_transition starts with a whole pass by the worker');
	is( $node->safe_psql('postgres',
			"SELECT count(*) FILTER (WHERE runner <> 'worker' OR to_state = 'error_recovery')"
			  . " FROM orchestrator.worker_transition"),
		'0',
		'nothing but the worker\'s passes in it');
	is( $node->safe_psql('postgres',
			'SELECT failures = 0 AND last_error IS NULL AND recover_after IS NULL'
			  . ' FROM orchestrator.worker_state'),
		't',
		'the new state has no failure');
	my $alive_at = $node->safe_psql('postgres', 'SELECT alive_at FROM orchestrator.worker_state');
	ok( $node->poll_query_until('postgres',
			"SELECT alive_at > '$alive_at'::timestamptz + interval '1 s'"
			  . " AND alive_pid = $pid FROM orchestrator.worker_state"),
		'the worker keeps recording its liveness there');
	ok( $node->poll_query_until('postgres',
			'SELECT count(*) >= 8 FROM orchestrator.worker_transition'),
		'and keeps running passes there');
	is(worker_pids($node), $pid, 'the same worker process');
	is(worker_log_count(qr/orchestrator worker: .* failed/, $offset),
		0, 'the worker logged no failure since CREATE EXTENSION');
	is(worker_log_count($waiting, $offset), 0, 'nor another waiting line');
	is(worker_ended_count($start_offset), 0, 'the worker never ended during the test');
};

$node->stop;
done_testing();
