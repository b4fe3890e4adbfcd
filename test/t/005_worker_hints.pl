# Dispatch hints: a session that LISTENs on orchestrator_dispatch receives, from the background
# worker, a NOTIFY for a workflow type once a transaction that enqueued a task of that type
# commits (between heartbeats: the heartbeat interval is an hour). A transaction that enqueued
# and rolled back wakes nobody: no hint follows it, although another type has ready work that
# any hint round would announce, and its type never appears in a hint.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use WorkerNode;

my $node = new_worker_node('hints', heartbeat => '1h');
$node->safe_psql('postgres', q(
CREATE EXTENSION orchestrator;
SELECT orchestrator.register_workflow_type('alpha');
SELECT orchestrator.register_workflow_type('beta');
SELECT orchestrator.register_workflow_type('gamma');
));

# The worker's start-up pass is over (nothing was ready, so it sent no hint) and it is between
# heartbeats for an hour.
$node->poll_query_until('postgres',
	"SELECT state = 'idle' AND pass_finished_at IS NOT NULL AND alive_runner = 'worker'"
	  . " FROM orchestrator.worker_state")
  or die 'the worker did not run its start-up pass';
my $worker_pid = worker_pids($node);

my $listener = $node->background_psql('postgres');
$listener->query_safe('LISTEN orchestrator_dispatch');

# The hints psql reports in the listening session, as [pid, payload] pairs: psql prints the
# notifications it has received after each command it runs.
sub drain
{
	my $out = $listener->query_safe('SELECT 1');
	my @hints;
	while ($out =~
		/Asynchronous notification "orchestrator_dispatch" with payload "(.*?)" received from server process with PID (\d+)\./g
	  )
	{
		push @hints, [ $2, $1 ];
	}
	return @hints;
}

# Polls the listening session until a hint for $type arrives; returns every hint received
# meanwhile.
sub wait_hint_for
{
	my ($type) = @_;
	my @hints;
	my $deadline = time + $PostgreSQL::Test::Utils::timeout_default;
	while (time < $deadline)
	{
		push @hints, drain();
		return @hints if grep { $_->[1] =~ /"workflow_type": "$type"/ } @hints;
		select(undef, undef, undef, 0.1);
	}
	diag "no hint for $type; received: " . explain(\@hints);
	return @hints;
}

# Waits until the worker has recorded liveness a whole second after now: it has gone round its
# loop, where it looks for wake-ups and sends the hints, several times since.
sub wait_worker_rounds
{
	my $now = $node->safe_psql('postgres', 'SELECT clock_timestamp()');
	return $node->poll_query_until('postgres',
		"SELECT alive_at > '$now'::timestamptz + interval '1 s' FROM orchestrator.worker_state");
}

subtest 'a committed enqueue brings a hint for its type' => sub {
	$node->safe_psql('postgres', q(SELECT orchestrator.enqueue('alpha', '{"n": 1}')));
	my @hints = wait_hint_for('alpha');
	is(scalar @hints, 1, 'one hint');
	is( $hints[0][1],
		'{"workflow_type": "alpha", "ready": 1, "ready_at_least": false, "batch": 1, "limited_by": "batch_max"}',
		'it names the type and its ready work');
	is($hints[0][0], $worker_pid, 'it comes from the worker process');
	ok(wait_worker_rounds(), 'the worker went on round its loop');
	is_deeply([ drain() ], [], 'and sent no second hint for the same commit');
};

subtest 'a rolled-back enqueue brings no hint' => sub {
	$node->safe_psql('postgres', q(
BEGIN;
SELECT orchestrator.enqueue('beta', '{"n": 2}');
ROLLBACK;
));
	is($node->safe_psql('postgres', 'SELECT count(*) FROM orchestrator.task'),
		'1', 'only the committed task exists');
	ok(wait_worker_rounds(), 'the worker went round its loop since the rollback');
	# alpha still has ready work, so a wake-up would have sent a hint for it
	is_deeply([ drain() ], [], 'no hint at all after the rollback');

	# a committed enqueue afterwards: the hints announce every type with ready work
	$node->safe_psql('postgres', q(SELECT orchestrator.enqueue('gamma', '{"n": 3}')));
	my @hints = wait_hint_for('gamma');
	is_deeply(
		[ sort map { $_->[1] } @hints ],
		[
			'{"workflow_type": "alpha", "ready": 1, "ready_at_least": false, "batch": 1, "limited_by": "batch_max"}',
			'{"workflow_type": "gamma", "ready": 1, "ready_at_least": false, "batch": 1, "limited_by": "batch_max"}'
		],
		'the next commit\'s hints name alpha and gamma, never beta');
};

subtest 'enqueues in one transaction count together' => sub {
	$node->safe_psql('postgres', q(
BEGIN;
SELECT orchestrator.enqueue('beta', '{"n": 4}');
SELECT orchestrator.enqueue('beta', '{"n": 5}');
COMMIT;
));
	my @hints = grep { $_->[1] =~ /"beta"/ } wait_hint_for('beta');
	is_deeply(
		[ map { $_->[1] } @hints ],
		['{"workflow_type": "beta", "ready": 2, "ready_at_least": false, "batch": 1, "limited_by": "batch_max"}'],
		'one hint for beta, counting both tasks (batch is capped by batch_max = 1)');
};

$listener->quit;
$node->stop;
done_testing();
