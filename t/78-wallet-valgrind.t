#!/usr/bin/perl
# The wallet's routes under valgrind (nginx in one process, memcheck):
# open, the page (HTML, JSON, none), buy (bought, owned, an idempotency
# key replayed, a form's 303), purchases of one wallet queued in the
# worker (clients gone meanwhile), a state written back, history,
# settings, restore (typed in groups), forget, a forged state, a flushed
# script cache. No invalid read, write, free or
# use of uninitialised memory may be reported.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use BcTest;
use HTTP::Tiny;
use POSIX ();

plan skip_all => 'valgrind not installed' unless `which valgrind` =~ /valgrind/;
plan skip_all => 'module or tools not built (make all unit)'
    unless -f $BcTest::MODULE && -x "$BcTest::TOOLS/wallet_fixture";

my $t = BcTest->new; $t->start_redis;
my $book = $t->make_file('files/book.pdf', 30_000); $t->make_file('files/b.pdf', 3000);
$t->make_file("files/q$_.pdf", 1000) for 1 .. 8;
$t->{http_port} = BcTest::free_port();
my $conf = $t->write_file('nginx.conf', "master_process off;\ndaemon off;\n" . $t->nginx_conf($t->wallet_http('location /files/ { bitcache on; }', price => 500)));
$t->start_nginx_valgrind($conf);
my $w = $t->wallet_open;
my $r;
$t->wallet_credit($w->{wallet}, 2000);
is($t->wallet_req('GET', '/wallet', $w->{code})->{status}, 200, 'page json');
is($t->get('/bitcache/wallet', Cookie => "bitcache_wallet=$w->{code}")->{status}, 200, 'page html');
is($t->get('/bitcache/wallet')->{status}, 200, 'open page');
my $o = $t->offer_of('/files/book.pdf');
$r = $t->wallet_req('POST', '/wallet/buy', $w->{code}, { offer => $o }, 'Idempotency-Key' => 'a'); is($r->{json}{state}, 'bought', 'bought');
$r = $t->wallet_req('POST', '/wallet/buy', $w->{code}, { offer => $o }); is($r->{json}{state}, 'owned', 'owned');
$r = $t->wallet_req('POST', '/wallet/buy', $w->{code}, { offer => $o, again => 1 }, 'Idempotency-Key' => 'a'); is($r->{json}{state}, 'owned', 'replay');
$r = $t->wallet_req('POST', '/wallet/buy', $w->{code}, "offer=$o", 'Content-Type' => 'application/x-www-form-urlencoded', Accept => 'text/html'); is($r->{status}, 303, 'a form buys: 303');
is($t->wallet_req('GET', '/wallet/history?limit=1', $w->{code})->{status}, 200, 'history');
is($t->wallet_req('POST', '/wallet/settings', $w->{code}, { max_auto_price => 5 })->{status}, 200, 'settings');
is($t->wallet_req('POST', '/wallet/restore', undef, { code => $w->{code} })->{status}, 200, 'restore');
is($t->wallet_req('POST', '/wallet/restore', undef, { code => 'x' })->{status}, 400, 'restore: not a code');
is($t->wallet_req('POST', '/wallet/forget')->{status}, 200, 'forget');
# purchases of one wallet queued in the worker (some clients gone before
# their turn); a state written back; the open form again; a code typed in groups
{
    my %q = map { $_ => $t->offer_of("/files/q$_.pdf") } 1 .. 8;
    my %old = @{ $t->redis('HGETALL', "bitcache:wal:$w->{wallet}") };
    my @kids;
    for my $i (1 .. 8) {
        my $k = fork // die;
        if (!$k) {
            my $ua = HTTP::Tiny->new(timeout => $i > 6 ? 0.2 : 60);
            $ua->request('POST', $t->url('/bitcache/wallet/buy'),
                         { headers => { Authorization => "Bitcache $w->{code}", Accept => 'application/json',
                                        'Content-Type' => 'application/json' },
                           content => qq({"offer":"$q{$i}"}) });
            $t->{owner} = 0;
            POSIX::_exit(0);
        }
        push @kids, $k;
    }
    waitpid $_, 0 for @kids;
    sleep 2;
    ok(1, 'eight parallel purchases of one wallet, two clients gone');
    my $bal = $t->wallet_balance($w->{code});
    ok(defined $bal, "... the wallet still answers (balance $bal)");
    my $typed = join '+', unpack '(A4)*', $w->{code};
    is($t->wallet_req('POST', '/wallet/restore', undef, "code=$typed")->{status}, 200,
       'restore of a code typed in groups');
    $t->redis('HSET', "bitcache:wal:$w->{wallet}", %old);
    is($t->wallet_req('POST', '/wallet/buy', $w->{code}, { offer => $q{8} })->{status}, 409,
       'a state written back: refused');
    is($t->wallet_req('POST', '/wallets', $w->{code})->{status}, 409, 'POST /wallets with a wallet: 409');
}
$t->redis('HSET', "bitcache:wal:$w->{wallet}", 'bal', 5);
is($t->wallet_req('POST', '/wallet/buy', $w->{code}, { offer => $t->offer_of('/files/b.pdf') })->{status}, 409, 'a forged state: refused');
$t->redis('SCRIPT', 'FLUSH');
is($t->wallet_req('POST', '/wallet/settings', $w->{code}, { max_auto_price => 5 })->{status}, 409, 'settings on it after SCRIPT FLUSH: refused');
$t->stop_nginx_valgrind;
done_testing;
