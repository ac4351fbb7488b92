#!/usr/bin/perl
# Wallet top-ups under valgrind (nginx in one process, memcheck), without a
# node: the payment attested as the watcher would (pay_invoice). A top-up
# made (JSON and form), refused by each limit, credited by its status (the
# claim and without), credited before, credited after a purchase, a replayed wtop entry, a broken
# ledger, an unlisted top-up, a forged attestation, and the wallet page
# crediting pending ones. No invalid read, write, free or use of
# uninitialised memory may be reported.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use BcTest;

plan skip_all => 'valgrind not installed' unless `which valgrind` =~ /valgrind/;
plan skip_all => 'module or tools not built (make all unit)' unless -f $BcTest::MODULE;

my $t = BcTest->new; $t->start_redis;
$t->make_file('files/book.pdf', 3000);
$t->{http_port} = BcTest::free_port();
my $conf = $t->write_file('nginx.conf', "master_process off;\ndaemon off;\n"
    . $t->nginx_conf($t->wallet_http('location /files/ { bitcache on; }',
                     api => 'bitcache_wallet_max_balance 14000; bitcache_wallet_max_topup 9000;',
                     price => 500)));
$t->start_nginx_valgrind($conf);

my $w = $t->wallet_open;
my $wid = $w->{wallet};
my $top = sub { $t->wallet_req('POST', '/wallet/topups', $_[0] // $w->{code}, "amount=$_[1]") };
my $st = sub { my ($inv, $claim) = @_;
               $t->get("/bitcache/invoices/$inv->{id}", Accept => 'application/json',
                       ($claim ? ('X-Bitcache-Claim' => $inv->{claim}) : ())) };
my $bal = sub { $t->redis('HGET', "bitcache:wal:$_[0]", 'bal') };

my $a = $top->(undef, 5000);
is($a->{status}, 201, 'a top-up (JSON)');
$a = $a->{json};
is($t->wallet_req('POST', '/wallet/topups', $w->{code}, 'amount=1000', Accept => 'text/html')->{status}, 303, 'a form: 303');
is($top->(undef, 10)->{status}, 400, 'below the minimum');
is($top->(undef, 9001)->{status}, 400, 'above the maximum');
is($top->(undef, 'x')->{status}, 400, 'no amount');
is($top->(undef, 9000)->{status}, 409, 'above max_balance with the pending ones');
is($t->wallet_req('POST', '/wallet/topups', undef, 'amount=1000')->{status}, 401, 'no credential');

$t->pay_invoice($a->{id}, 6000, 1);
is($st->($a, 1)->{status}, 200, 'status with the claim: credited');
is($st->($a, 0)->{status}, 200, 'without: credited before');
is($bal->($wid), 6000, 'balance 6000');
$t->redis('HSET', "bitcache:wtop:$wid", $a->{id}, '0');
$st->($a, 1);
is($bal->($wid), 6000, 'wtop replayed: the ledger has it');
$t->redis('HSET', "bitcache:wtop:$wid", $a->{id}, '1');
is($t->wallet_req('POST', '/wallet/buy', $w->{code}, { offer => $t->offer_of('/files/book.pdf') })->{json}{state},
   'bought', 'a purchase: a debit entry in the ledger');
is($bal->($wid), 5500, 'balance 5500');
my $b = $top->(undef, 2000)->{json};
$t->pay_invoice($b->{id}, 2000, 1);
is($t->wallet_req('GET', '/wallet', $w->{code})->{status}, 200, 'the page credits the pending one');
is($bal->($wid), 7500, 'balance 7500: credited after the debit (the chain checked across it)');
my $c = $top->(undef, 2000)->{json};
$t->pay_invoice($c->{id}, 2000, 1, key => 'aa' x 32);
$st->($c, 1);
is($bal->($wid), 7500, 'a forged attestation: nothing');
my $d = $top->(undef, 2000)->{json};
$t->pay_invoice($d->{id}, 2000, 1);
$t->redis('HDEL', "bitcache:wtop:$wid", $d->{id});
$st->($d, 1);
is($bal->($wid), 7500, 'not listed: nothing');
$t->redis('HSET', "bitcache:wtop:$wid", $d->{id}, '0');
$t->redis('RPUSH', "bitcache:wled:$wid", 'garbage');
$st->($d, 1);
is($bal->($wid), 7500, 'a broken ledger: nothing');
$t->redis('RPOP', "bitcache:wled:$wid");
$st->($d, 1);
is($bal->($wid), 9500, 'mended: credited');
is($t->get("/bitcache/invoices/$d->{id}", 'X-Bitcache-Claim' => $d->{claim})->{status}, 200, 'the HTML page');
ok($t->wallet_audit($wid)->{ok}, 'the audit: credits and the debit verify');

$t->stop_nginx_valgrind;
done_testing;
