# A test node running the orchestrator's background worker, shared by the TAP tests in this
# directory: the library preloaded, the worker serving database postgres as its own role
# (orchestrator_pulse, a superuser that is not the bootstrap one) and recording liveness every
# 200 ms.
package WorkerNode;

use strict;
use warnings;
use Exporter 'import';
use PostgreSQL::Test::Cluster;

our @EXPORT = qw(worker_conf new_worker_node add_worker_role worker_pids);

# The postgresql.conf lines of the worker (its role apart), with $heartbeat between passes and
# any $extra lines.
sub worker_conf
{
	my ($heartbeat, $extra) = @_;
	return "shared_preload_libraries = 'orchestrator'\n"
	  . "orchestrator.database = 'postgres'\n"
	  . "orchestrator.liveness_interval = '200ms'\n"
	  . "orchestrator.heartbeat_interval = '$heartbeat'\n"
	  . ($extra // '');
}

# The worker reads its role at server start and the role must exist by then: creates it and
# restarts the running node with it.
sub add_worker_role
{
	my ($node) = @_;
	$node->safe_psql('postgres', 'CREATE ROLE orchestrator_pulse LOGIN SUPERUSER');
	$node->append_conf('postgresql.conf', "orchestrator.worker_role = 'orchestrator_pulse'");
	$node->restart;
	return;
}

# A started node with the worker running. Options: heartbeat (default '1h'), extra_conf,
# init (a hash ref of PostgreSQL::Test::Cluster::init options).
sub new_worker_node
{
	my ($name, %opt) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init(%{ $opt{init} // {} });
	$node->append_conf('postgresql.conf',
		worker_conf($opt{heartbeat} // '1h', $opt{extra_conf}));
	$node->start;
	add_worker_role($node);
	return $node;
}

# The pids of the processes that are the worker, comma-separated ('' when there is none).
sub worker_pids
{
	my ($node) = @_;
	return $node->safe_psql('postgres',
		"SELECT coalesce(string_agg(pid::text, ',' ORDER BY pid), '') FROM pg_stat_activity"
		  . " WHERE backend_type = 'orchestrator worker'");
}

1;
