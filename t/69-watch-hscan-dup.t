#!/usr/bin/perl
# HSCAN may return a field more than once (Redis documents it: when a hash
# shrinks between two pages), and a Redis writer can make a hash shrink by
# adding and deleting fields of its own. The watcher reads an invoice's
# payments with HSCAN, page by page: each outpoint must count once, or a
# half payment counted twice settles the invoice. A proxy between the
# watcher and Redis plays the duplicate: every later page of pay:<id>
# repeats the first page's fields.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Time::HiRes qw(sleep);
use BcTest;

my $wait = \&BcTest::wait_until;

my $t = BcTest->new;
$t->start_redis;
$t->start_node;
$t->fund_wallet;
$t->make_file('files/book.pdf', 10_000);
$t->start_nginx($t->selling_http('location /files/ { bitcache on; bitcache_confirmations 1; }'));

my %first;    # pay:<id> => the first page's field/value pairs, raw RESP
my $dups = 0;
my $proxy = $t->start_redis_proxy('proxy', sub {
    my ($cmd, $reply) = @_;
    return $reply unless uc($cmd->[0] // '') eq 'HSCAN' && ($cmd->[1] // '') =~ /pay:/;
    # *2 $<n> cursor *<m> pairs...
    $reply =~ /\A(\*2\r\n\$\d+\r\n[^\r]*\r\n)\*(\d+)\r\n(.*)\z/s or return $reply;
    my ($head, $m, $pairs) = ($1, $2, $3);
    if ($cmd->[2] eq '0') {
        $first{ $cmd->[1] } = [ $m, $pairs ];
        return $reply;
    }
    my $f = $first{ $cmd->[1] } or return $reply;
    return $head . '*' . ($m + $f->[0]) . "\r\n" . $pairs . $f->[1];
});
$t->start_watcher(name => 'w', redis => "127.0.0.1:$proxy");

sub inv { $t->invoice($_[0]) }

# an invoice of 12,345 sats paid 7,000: underpaid, whatever HSCAN says
my $a = $t->new_invoice('/files/book.pdf');
$t->send_sats($a->{address}, 7_000);
$t->mine(1);
ok($wait->(sub { (inv($a->{id})->{state} // '') eq 'underpaid' }, 30), 'half paid: underpaid')
    or diag $t->watcher_log('w');

# a Redis writer's fields make the hash span pages (it is no longer one
# listpack, so COUNT applies)
$t->redis('HSET', "bitcache:pay:$a->{id}", map { sprintf('%064x:%d', $_, 0), 'junk' } 1 .. 400);
my $mark = length $t->watcher_log('w');
$t->redis('SADD', 'bitcache:watcher:open', $a->{id});
for (1 .. 3) {
    my $h = $t->node_rpc('getblockcount');
    $t->mine(1);
    $wait->(sub { ($t->redis('HGET', 'bitcache:watcher:tip', 'height') // 0) == $h + 1 }, 20);
    sleep 0.5;
}
like(substr($t->watcher_log('w'), $mark), qr/payment records refused in all/,
     'the watcher read the payments over several pages');
my $s = inv($a->{id});
is($s->{state}, 'underpaid', 'its payment returned twice by HSCAN: still underpaid');
is($s->{received}, 7_000, 'received: the payment once');
ok(!$t->invoice_status($a->{id})->{token}, 'no token');

# the same with a payment that completes it: paid, 12,345 received, once
$t->send_sats($a->{address}, 5_345);
$t->mine(1);
ok($wait->(sub { (inv($a->{id})->{state} // '') eq 'paid' }, 30), 'topped up: paid');
is(inv($a->{id})->{received}, 12_345, 'received: each payment once');
ok($t->invoice_status($a->{id})->{token}, 'a token');

$t->check_log_clean;
done_testing();
