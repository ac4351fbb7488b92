#!/usr/bin/perl
# The giveaway's paths under valgrind (nginx in one process, as t/13): the
# 402's count (read, and from the zone's mark), claims as JSON and as a
# form, none left, one per address, a counter set back (the copy exists),
# a counter that is not a number, a client gone before Redis answers, and
# Redis down. No invalid read, write, free or use of uninitialised memory.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use JSON::PP qw(decode_json encode_json);
use HTTP::Tiny;
use IO::Socket::INET;
use Time::HiRes qw(sleep);
use BcTest;

plan skip_all => 'valgrind not installed' unless `which valgrind` =~ /valgrind/;
plan skip_all => 'module or tools not built (make all unit)'
    unless -f $BcTest::MODULE && -x $BcTest::CLI;

my $t = BcTest->new;
$t->start_redis;
my $data = $t->make_file('g/a.bin', 20_000);
$t->make_file('w/w.bin', 1000);
$t->{http_port} = BcTest::free_port();
my $http = $t->selling_http(<<'LOC');
        location /g/ { bitcache on; bitcache_free_first 2; }
        location /w/ { bitcache on; bitcache_free_first 5; bitcache_free_per_address 1h; }
LOC
my $conf = $t->write_file('nginx.conf', "master_process off;\ndaemon off;\n" . $t->nginx_conf($http));
$t->start_nginx_valgrind($conf);

my $ua = HTTP::Tiny->new(timeout => 60, max_redirect => 0, keep_alive => 0);
sub claim {
    my ($offer, $form) = @_;
    return $ua->request('POST', $t->url('/bitcache/free'), $form
        ? { headers => { 'Content-Type' => 'application/x-www-form-urlencoded' }, content => "offer=$offer" }
        : { headers => { 'Content-Type' => 'application/json', Accept => 'application/json' },
            content => encode_json({ offer => $offer }) });
}
sub j402 { decode_json($ua->get($t->url($_[0]), { headers => { Accept => 'application/json' } })->{content}) }

like($ua->get($t->url('/g/a.bin'))->{content}, qr/2 of 2/, 'the page with the count');
my $offer = j402('/g/a.bin')->{offer};
my $r = claim($offer);
is($r->{status}, 201, 'a JSON claim');
is($ua->get($t->url('/g/a.bin?bitcache_token=' . decode_json($r->{content})->{token}))->{content}, $data,
   '... its token downloads the file');
is(claim($offer, 1)->{status}, 303, 'a form claim');
is(claim($offer)->{status}, 410, 'none left');
is(j402('/g/a.bin')->{free_left}, 0, 'the 402 from the mark');
is(claim('garbage')->{status}, 400, 'a bad offer');

my $w = j402('/w/w.bin')->{offer};
is(claim($w)->{status}, 201, 'per address: the first');
is(claim($w)->{status}, 429, 'per address: the second');
$t->redis('EVAL', "for _,k in ipairs(redis.call('KEYS','bitcache:freeip:*')) do redis.call('DEL',k) end", 0);
$t->redis('SET', 'bitcache:free:/w/w.bin', 0);
is(claim($w)->{status}, 503, 'a counter set back: copy 1 exists, 503');
$t->redis('SET', 'bitcache:free:/w/w.bin', 'x');
is(j402('/w/w.bin')->{free_left}, 0, 'a counter that is not a number: 0 left');
$t->redis('EVAL', "for _,k in ipairs(redis.call('KEYS','bitcache:freeip:*')) do redis.call('DEL',k) end", 0);
is(claim($w)->{status}, 503, '... a claim on it: 503');

# a client that goes away while Redis is stopped (the call times out)
$t->redis('SET', 'bitcache:free:/w/w.bin', 1);
$t->redis_signal('STOP');
my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $t->{http_port}) or die;
my $body = encode_json({ offer => $w });
print $s "POST /bitcache/free HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
       . "Content-Length: " . length($body) . "\r\n\r\n$body";
sleep 0.3;
close $s;
my $g = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $t->{http_port}) or die;
print $g "GET /w/w.bin HTTP/1.1\r\nHost: x\r\n\r\n";
sleep 0.3;
close $g;
sleep 3;
$t->redis_signal('CONT');
sleep 0.5;
$t->stop_redis;
is(claim($w)->{status}, 503, 'Redis down: 503');
is($ua->get($t->url('/w/w.bin'))->{status}, 503, 'Redis down: the 402 is 503');

$t->stop_nginx_valgrind;
$t->check_log_clean;
done_testing;
