#!/usr/bin/perl
# Redis down or stuck: 503 with Retry-After, never the file; when Redis is
# back the next requests work without reloading nginx.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Time::HiRes qw(time sleep);
use BcTest;

my $t = BcTest->new;
$t->{redis_port} = BcTest::free_port();    # nginx starts before Redis does
my $data = $t->make_file('files/track.flac', 64 * 1024);
$t->start_nginx(undef, workers => 2);

sub fetch { $t->get('/files/track.flac?bitcache_token=' . $_[0], @_[1 .. $#_]) }

sub unavailable_ok {
    my ($tok, $what) = @_;
    my $t0 = time;
    my $r = fetch($tok);
    my $took = time - $t0;
    is($r->{status}, 503, "$what: 503");
    is($r->{headers}{'retry-after'}, 2, "$what: Retry-After");
    is($r->{headers}{'cache-control'}, 'no-store', "$what: not cached");
    unlike($r->{content}, qr/\Q@{[substr($data, 0, 32)]}\E/, "$what: no file bytes");
    cmp_ok($took, '<', 3, "$what: answered within the timeout (${\ sprintf '%.2f', $took}s)");
}

# wait until a fresh token downloads (Redis reconnected), at most 10 s
sub recovers {
    my ($what) = @_;
    my $until = time + 10;
    my ($tok, $r);
    while (time < $until) {
        $tok = $t->grant('/files/track.flac', '--uses', 0);
        $r = fetch($tok);
        last if $r->{status} == 200;
        sleep 0.2;
    }
    is($r->{status}, 200, "$what: a request succeeds without a reload");
    is($r->{content}, $data, "$what: exact bytes");
    # the other worker may still wait out its reconnect backoff (at most 2 s,
    # failing closed meanwhile): within 5 s both serve, 10 requests in a row
    my ($run, @codes) = (0);
    $until = time + 5;
    while ($run < 10 && time < $until) {
        my $status = fetch($tok)->{status};
        push @codes, $status;
        $run = $status == 200 ? $run + 1 : 0;
        sleep 0.1 if $status != 200;
    }
    is($run, 10, "$what: both workers serve again, 10 requests in a row")
        or diag "statuses: @codes";
    ok(!grep({ $_ != 200 && $_ != 503 } @codes), "$what: meanwhile only 200 or 503");
    return $tok;
}

# Redis not there at start
my $never = 'AQ' . ('A' x 100);
$t->{redis_port} or die;
my $secret = $t->secret_bytes;
use TokenRef qw(mint_token);
my $genuine = mint_token($secret, "\x05" x 16, time + 3600, 1, '/files/track.flac');
unavailable_ok($genuine, 'redis never started');
is(fetch($never)->{status}, 402, 'a malformed token is still 402 (checked before Redis)');

$t->start_redis;
my $tok = recovers('redis started late');

# Redis killed
$t->stop_redis('KILL');
unavailable_ok($tok, 'redis killed');
my $r = $t->get('/files/track.flac', Accept => 'application/json', Cookie => "bitcache_token=$tok");
is($r->{status}, 503, 'JSON 503');
like($r->{content}, qr/"error":"unavailable"/, 'JSON says unavailable');

$t->start_redis;
recovers('redis restarted');

# Redis stuck (SIGSTOP): the request times out on an nginx timer
$tok = $t->grant('/files/track.flac', '--uses', 0);
is(fetch($tok)->{status}, 200, 'token works before the stall');
$t->redis_signal('STOP');
unavailable_ok($tok, 'redis stopped');
unavailable_ok($tok, 'redis still stopped');
$t->redis_signal('CONT');
recovers('redis continued');

like($t->error_log, qr/bitcache: redis 127\.0\.0\.1:\d+ unavailable/, 'the outage is logged');
like($t->error_log, qr/bitcache: connected to redis/, 'and the reconnect');

$t->stop_nginx;
$t->check_log_clean;
done_testing;
