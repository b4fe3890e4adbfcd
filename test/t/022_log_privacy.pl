# Payloads, results and error texts never reach the server log at PostgreSQL's default log settings,
# and a failure message is stored cut to orchestrator.max_error_bytes.
# - The server runs with the background worker (heartbeat every second) and the default log
#   settings (PostgreSQL::Test::Cluster's log_statement = all is put back to none).
# - Every value is sent the way n8n's Postgres node sends query parameters: bound, through
#   pgbench -M extended. Distinctive markers go in payloads (enqueue, enqueue_batch), results
#   (complete_execution, per-task outcomes), error texts (fail_execution, a failed task outcome)
#   and on error paths: a callback for an unknown execution, a late callback, an unknown workflow
#   type, a payload over the size limit, task outcomes with a free-text status, api_calls with a
#   free-text key. The worker expires a lease over a payload and runs its passes over all of it.
# - The log then holds the errors (their messages are there) but none of the markers. Control: a
#   bound value that PostgreSQL itself quotes in an error ("invalid input syntax for type integer")
#   is found in the same log, so the search would see a leak.
# - fail_execution's error text is stored cut to orchestrator.max_error_bytes (4096 by default,
#   100 when set so), on a character boundary, in the execution, the task's last_error and its
#   failure history.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use FindBin;
use lib $FindBin::RealBin;
use WorkerNode;

my %secret = (
	payload => 'PAYLOAD-7f3a9c51',
	result => 'RESULT-c41d2e07',
	error => 'ERRTEXT-b8e05f66',
	status => 'STATUS-Not-A-Name-93d1',
	key => 'APIKEY-Not-A-Name-2ab4');
my $control = 'CONTROL-5a1b77e0';

# The server's defaults for what goes to the log (Cluster.pm sets log_statement = all).
my $default_logging = join('',
	"log_statement = 'none'\n",
	"log_min_messages = 'warning'\n",
	"log_min_error_statement = 'error'\n",
	"log_error_verbosity = 'default'\n",
	"log_min_duration_statement = -1\n",
	"log_parameter_max_length = -1\n",
	"log_parameter_max_length_on_error = 0\n");

my $node = new_worker_node('logs', heartbeat => '1s', extra_conf => $default_logging,
	init => { extra => [ '--encoding=UTF8', '--locale=C' ] });
is($node->safe_psql('postgres', 'SHOW log_statement'), 'none', 'log_statement is the default');
$node->safe_psql('postgres', q{
CREATE EXTENSION orchestrator;
SELECT orchestrator.register_api('gemini', 60);
SELECT orchestrator.register_workflow_type('leak', batch_max => 2, max_attempts => 2);
SELECT orchestrator.register_workflow_type('short_lease', lease_timeout => '1 second');
});

my $script_count = 0;

# Runs $sql (one or more statements, values as :name) once with pgbench -M extended, the values
# bound as parameters; returns (exit code, stderr).
sub bound
{
	my ($sql, %vars) = @_;
	my $file = "$PostgreSQL::Test::Utils::tmp_check/bound_" . ++$script_count . '.sql';
	open my $fh, '>', $file or die "$file: $!";
	print $fh $sql;
	close $fh;
	my ($stdout, $stderr);
	my $rc = IPC::Run::run(
		[
			'pgbench', '-n', '-t', '1', '-M', 'extended', '-f', $file,
			'-h', $node->host, '-p', $node->port, (map { ('-D', "$_=$vars{$_}") } sort keys %vars),
			'postgres'
		],
		'>', \$stdout, '2>', \$stderr);
	return ($rc ? 0 : 1, $stderr);
}

# Runs a bound call that must succeed.
sub bound_ok
{
	my ($sql, $name, %vars) = @_;
	my ($failed, $stderr) = bound($sql, %vars);
	ok(!$failed, $name) or diag($stderr);
	return;
}

# Runs a bound call that must fail with $message.
sub bound_fails
{
	my ($sql, $message, $name, %vars) = @_;
	my ($failed, $stderr) = bound($sql, %vars);
	ok($failed, "$name: refused");
	like($stderr, $message, "$name: with its message");
	return;
}

# Claims the next execution of `leak`; returns [execution_id, task ids...].
sub claim
{
	my ($type) = @_;
	my $row = $node->safe_psql('postgres',
		"SELECT execution_id || ',' || array_to_string(task_ids, ',')"
		  . " FROM orchestrator.orchestrate_next_execution('log-test', 1, '{$type}')");
	return [ split /,/, $row ];
}

my $payload = qq({"note": "$secret{payload}", "nested": {"deep": ["$secret{payload}"]}});
my $result = qq({"summary": "$secret{result}"});

# ---- the happy paths ------------------------------------------------------------------------
bound_ok("SELECT orchestrator.enqueue('leak', :payload::jsonb, 5, :key);",
	'enqueue with the payload and an idempotency key',
	payload => $payload, key => "idem-$secret{payload}");
bound_ok("SELECT orchestrator.enqueue('leak', :payload::jsonb);", 'enqueue again',
	payload => $payload);
bound_ok("SELECT orchestrator.enqueue_batch('leak', jsonb_build_array(:payload::jsonb,"
	  . " :payload::jsonb, :payload::jsonb, :payload::jsonb, :payload::jsonb, :payload::jsonb));",
	'enqueue_batch of six', payload => $payload);
bound_ok("SELECT orchestrator.enqueue('short_lease', :payload::jsonb);",
	'enqueue a task whose lease is 1 second', payload => $payload);

my $first = claim('leak');
is(scalar @$first, 3, 'an execution of two tasks');
bound_ok(
	"SELECT orchestrator.complete_execution(:id, :result::jsonb, 0.5,"
	  . " jsonb_build_array(jsonb_build_object('task_id', :t1::bigint, 'status', 'succeeded',"
	  . " 'result', :result::jsonb), jsonb_build_object('task_id', :t2::bigint, 'status', 'failed',"
	  . " 'error', :error::text, 'retryable', false)));",
	'complete_execution with a result and a failed task outcome',
	id => $first->[0], t1 => $first->[1], t2 => $first->[2], result => $result,
	error => "outcome $secret{error}");

# An error text of 5000 characters, 2 bytes each from the 3rd on: over the 4096-byte limit.
my $second = claim('leak');
bound_ok("SELECT orchestrator.fail_execution(:id, :head || repeat('é', 4998), true);",
	'fail_execution with a long error text', id => $second->[0], head => 'é' . $secret{error});
my $third = claim('leak');
bound_ok(
	"SET orchestrator.max_error_bytes = 100;\n"
	  . "SELECT orchestrator.fail_execution(:id, repeat(:error, 40), true);",
	'fail_execution with orchestrator.max_error_bytes = 100',
	id => $third->[0], error => "$secret{error}é");
bound_ok("SELECT orchestrator.heartbeat_execution(:id);", 'heartbeat_execution',
	id => claim('short_lease')->[0]);

subtest 'a stored error text is cut to orchestrator.max_error_bytes on a character boundary' => sub {
	for my $case ([ $second->[0], 4096, 'é' . $secret{error} . ('é' x 4998) ],
		[ $third->[0], 100, "$secret{error}é" x 40 ])
	{
		my ($id, $limit, $sent) = @$case;
		my $stored = $node->safe_psql('postgres', qq{
			SELECT octet_length(e.error) || ' ' || (left(\$\$$sent\$\$, char_length(e.error)) = e.error)
			       || ' ' || bool_and(t.last_error = e.error
			                          AND t.failures -> -1 ->> 'error' = e.error)
			  FROM orchestrator.workflow_orchestration e
			  JOIN orchestrator.task t ON t.id = ANY (e.task_ids)
			 WHERE e.id = $id GROUP BY e.error});
		my ($bytes, $prefix, $same) = split / /, $stored;
		cmp_ok($bytes, '<=', $limit, "execution $id: $bytes bytes stored, at most $limit");
		cmp_ok($bytes, '>', $limit - 4, "execution $id: cut at the limit, not before");
		is($prefix, 'true', "execution $id: what is stored is the start of what was sent");
		is($same, 'true', "execution $id: the tasks' last_error and failure history hold the same");
	}
};

# ---- the error paths ------------------------------------------------------------------------
bound_fails("SELECT orchestrator.fail_execution(:id, :error);",
	qr/execution 999999 does not exist/, 'a callback for an unknown execution',
	id => 999999, error => $secret{error});
bound_fails("SELECT orchestrator.complete_execution(:id, :result::jsonb);",
	qr/execution $first->[0] has already finished/, 'a late callback',
	id => $first->[0], result => $result);
bound_fails("SELECT orchestrator.enqueue('no_such_type', :payload::jsonb);",
	qr/workflow type "no_such_type" does not exist/, 'an unknown workflow type',
	payload => $payload);
bound_fails(
	"SELECT orchestrator.enqueue('leak', jsonb_build_object('note', repeat(:payload, 100000)));",
	qr/payload is too large|payload.*limit/i, 'a payload over the size limit',
	payload => $secret{payload});
my $fourth = claim('leak');
bound_fails(
	"SELECT orchestrator.complete_execution(:id, NULL, NULL,"
	  . " jsonb_build_array(jsonb_build_object('task_id', :t::bigint, 'status', :status::text)));",
	qr/task_outcomes is invalid/, 'task outcomes with a free-text status',
	id => $fourth->[0], t => $fourth->[1], status => $secret{status});
bound_fails(
	"SELECT orchestrator.complete_execution(:id, NULL, NULL, NULL,"
	  . " jsonb_build_object(:key::text, 1));",
	qr/api_calls has a key that is not an API name/, 'api_calls with a free-text key',
	id => $fourth->[0], key => $secret{key});
bound_fails("SELECT :value::integer;", qr/invalid input syntax for type integer/,
	'control: a value PostgreSQL quotes in its own error', value => $control);

# ---- the worker runs its passes over all of it -----------------------------------------------
$node->poll_query_until('postgres',
	"SELECT status = 'expired' FROM orchestrator.workflow_orchestration"
	  . " WHERE workflow_type = 'short_lease' AND parent_id IS NOT NULL")
  or die 'the worker did not expire the 1-second lease';
my $passes = $node->safe_psql('postgres',
	"SELECT count(*) FROM orchestrator.worker_transition WHERE to_state = 'idle'");
$node->poll_query_until('postgres',
	"SELECT count(*) > $passes + 1 FROM orchestrator.worker_transition WHERE to_state = 'idle'")
  or die 'the worker did not run two more passes';
pass('the worker expired the lease and ran its passes');

# ---- the log --------------------------------------------------------------------------------
my $log = slurp_file($node->logfile);
like($log, qr/ERROR:  execution 999999 does not exist/, 'the log has the errors');
like($log, qr/ERROR:  task_outcomes is invalid/, 'the log has the task_outcomes error');
like($log, qr/\Q$control\E/, 'control: a value in a PostgreSQL error message is found in the log');
for my $kind (sort keys %secret)
{
	unlike($log, qr/\Q$secret{$kind}\E/, "no $kind marker anywhere in the log");
}
unlike($log, qr/(?:é){8}/, 'no piece of the long error text in the log');

done_testing();
