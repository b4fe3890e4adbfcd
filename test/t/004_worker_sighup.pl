# orchestrator.heartbeat_interval changed on a running worker by a configuration reload
# (SIGHUP): with '1h' the worker runs its start-up pass and then none while it keeps recording
# liveness; after ALTER SYSTEM SET orchestrator.heartbeat_interval = '1s' and pg_reload_conf()
# the same worker process runs passes again, whole ones (four transitions each, in order); and
# set back to '1h' it stops running them.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use WorkerNode;

my $node = new_worker_node('sighup', heartbeat => '1h');
$node->safe_psql('postgres', 'CREATE EXTENSION orchestrator');

sub transition_count
{
	return $node->safe_psql('postgres', 'SELECT count(*) FROM orchestrator.worker_transition');
}

# The number of transitions, read in the same snapshot as an idle stored state (retried while a
# pass is under way). The state and its transition are stored by one statement, so at idle the
# transitions are those of whole passes.
sub idle_transition_count
{
	my $count = '';
	my $deadline = time + $PostgreSQL::Test::Utils::timeout_default;
	while ($count eq '' && time < $deadline)
	{
		$count = $node->safe_psql('postgres',
			"SELECT (SELECT count(*) FROM orchestrator.worker_transition)"
			  . " FROM orchestrator.worker_state WHERE state = 'idle'");
		select(undef, undef, undef, 0.05) if $count eq '';
	}
	return $count;
}

# Waits until the worker has recorded liveness at least $seconds after the current time: it
# has gone round its loop for that long.
sub wait_liveness_beyond
{
	my ($seconds) = @_;
	my $now = $node->safe_psql('postgres', 'SELECT clock_timestamp()');
	return $node->poll_query_until('postgres',
		"SELECT alive_at > '$now'::timestamptz + interval '$seconds s'"
		  . " FROM orchestrator.worker_state");
}

# Changes the interval the way an operator would, and waits until the worker has read it. The
# same reload sets application_name, which a background worker takes from the configuration file
# (it has no client to set it) and shows in pg_stat_activity as soon as it has processed the
# file: the new interval is then in effect in the worker.
sub set_interval
{
	my ($value, $pid) = @_;
	my $marker = "reload_to_$value";
	$node->safe_psql('postgres', qq(
ALTER SYSTEM SET orchestrator.heartbeat_interval = '$value';
ALTER SYSTEM SET application_name = '$marker';
SELECT pg_reload_conf();
));
	$node->poll_query_until('postgres',
		"SELECT application_name = '$marker' FROM pg_stat_activity WHERE pid = $pid")
	  or die "the worker did not process the reload to $value";
	return;
}

$node->poll_query_until('postgres',
	"SELECT state = 'idle' AND pass_finished_at IS NOT NULL FROM orchestrator.worker_state")
  or die 'the worker did not run its start-up pass';
my $pid = $node->safe_psql('postgres',
	"SELECT pid FROM pg_stat_activity WHERE backend_type = 'orchestrator worker'");

subtest 'with a 1 h heartbeat no pass follows the start-up pass' => sub {
	is(transition_count(), '4', 'the start-up pass stored its four transitions');
	ok(wait_liveness_beyond(3), 'the worker keeps recording liveness for 3 s');
	is(transition_count(), '4', 'and runs no further pass meanwhile');
};

subtest 'a reload to a 1 s heartbeat makes the same worker beat' => sub {
	set_interval('1s', $pid);
	is($node->safe_psql('postgres', 'SHOW orchestrator.heartbeat_interval'),
		'1s', 'the server took on the new interval');
	ok( $node->poll_query_until('postgres',
			"SELECT count(*) >= 12 FROM orchestrator.worker_transition"),
		'passes happen again: at least two more');
	my $idle_count = idle_transition_count();
	like($idle_count, qr/^\d+$/, 'the state machine is idle between passes');
	is($idle_count % 4, 0, "the transitions at idle ($idle_count) are whole passes");
	is( $node->safe_psql('postgres',
			"SELECT count(*) FROM (SELECT id, from_state || '->' || to_state AS step,"
			  . " row_number() OVER (ORDER BY id) AS n FROM orchestrator.worker_transition) t"
			  . " WHERE step <> (ARRAY['idle->analyzing', 'analyzing->dispatching',"
			  . " 'dispatching->monitoring', 'monitoring->idle'])[(n - 1) % 4 + 1]"),
		'0',
		'every pass is idle -> analyzing -> dispatching -> monitoring -> idle');
	is( $node->safe_psql('postgres',
			"SELECT string_agg(DISTINCT runner || ' ' || reason, ',')"
			  . " FROM orchestrator.worker_transition"),
		'worker heartbeat',
		'all of them run by the worker\'s heartbeat');
	is( $node->safe_psql('postgres',
			"SELECT pid FROM pg_stat_activity WHERE backend_type = 'orchestrator worker'"),
		$pid,
		'the same worker process, not a restarted one');
};

subtest 'a reload back to 1 h stops the passes' => sub {
	set_interval('1h', $pid);
	# The worker read the new interval between two passes, so it is idle now.
	my $count = idle_transition_count();
	like($count, qr/^\d+$/, 'the worker is idle after the reload');
	ok(wait_liveness_beyond(3), 'the worker keeps recording liveness for 3 s');
	is(transition_count(), $count, 'and runs no further pass meanwhile');
};

$node->stop;
done_testing();
