# The worker's role needs no superuser: a plain login role that is a member of
# orchestrator_worker runs the passes, which act as the extension's owner. Before the grant the
# worker says once what it waits for and does nothing; the role itself still may not write the
# tables.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use WorkerNode;

my $node = PostgreSQL::Test::Cluster->new('worker_role');
$node->init;
$node->append_conf('postgresql.conf', worker_conf('1h'));
$node->start;
$node->safe_psql('postgres', 'CREATE ROLE plain_pulse LOGIN');
$node->append_conf('postgresql.conf', "orchestrator.worker_role = 'plain_pulse'");
$node->restart;
$node->safe_psql('postgres', 'CREATE EXTENSION orchestrator');

my $waiting = qr/orchestrator worker: waiting for role "plain_pulse" to be granted orchestrator_worker/;

subtest 'without orchestrator_worker the worker waits and does nothing' => sub {
	$node->wait_for_log($waiting);
	# Several liveness intervals (200 ms) later: still said once, still no pass.
	$node->poll_query_until('postgres', "SELECT pg_sleep(1) IS NOT NULL") or die;
	my $log = slurp_file($node->logfile);
	my @hits = $log =~ /$waiting/g;
	is(scalar @hits, 1, 'the wait is logged once');
	is($node->safe_psql('postgres',
			"SELECT count(*) FROM orchestrator.worker_transition WHERE runner = 'worker'"),
		'0', 'no pass ran');
};

subtest 'granted orchestrator_worker, the worker runs its passes as the owner' => sub {
	$node->safe_psql('postgres', 'GRANT orchestrator_worker TO plain_pulse');
	$node->poll_query_until('postgres',
		"SELECT count(*) = 4 FROM orchestrator.worker_transition WHERE runner = 'worker'")
	  or die 'the worker did not run a pass';
	is($node->safe_psql('postgres',
			"SELECT string_agg(to_state, ',' ORDER BY id) FROM orchestrator.worker_transition"),
		'analyzing,dispatching,monitoring,idle', 'a whole pass');
	$node->poll_query_until('postgres',
		"SELECT alive_runner = 'worker' FROM orchestrator.worker_state")
	  or die 'no liveness';
	is($node->safe_psql('postgres', "SELECT rolsuper FROM pg_roles WHERE rolname = 'plain_pulse'"),
		'f', 'the worker role is not a superuser');
};

subtest 'the worker role itself may not write the tables' => sub {
	my ($ret, $out, $err) = $node->psql('postgres',
		"SET ROLE plain_pulse; UPDATE orchestrator.worker_state SET failures = 7");
	isnt($ret, 0, 'a direct update is refused');
	like($err, qr/permission denied for table worker_state/, 'for lack of privilege');
	my ($ret2, $out2, $err2) = $node->psql('postgres',
		"SET ROLE plain_pulse; SELECT orchestrator.register_workflow_type('t')");
	like($err2, qr/permission denied for function register_workflow_type/,
		'configuration is for orchestrator_admin');
	$node->safe_psql('postgres', "SELECT orchestrator.register_workflow_type('t')");
	is($node->safe_psql('postgres',
			"SET ROLE plain_pulse; SELECT orchestrator.enqueue('t', '{}') > 0"),
		't', 'but it may call the API orchestrator_worker holds');
};

$node->stop;
done_testing();
