#!/usr/bin/perl
# The watcher reads JSON-RPC replies however a node lays them out. Bitcoin
# Core and bcoin put "result" first, and the watcher decodes a block's hex
# straight from there; any other valid layout must give the same blocks
# through jansson. A relay between the watcher and the real regtest node
# (bcoin) re-encodes every reply: keys sorted ("error", "id", "result"),
# pretty-printed, "/" escaped; then with "result" first but spaces around
# the colon. The whole purchase must work through each.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use IO::Socket::INET;
use POSIX ();
use JSON::PP;
use HTTP::Tiny;
use MIME::Base64;
use BcTest;

my $t = BcTest->new;
$t->start_redis;
$t->start_node;
$t->fund_wallet;
my $book = $t->make_file('files/book.pdf', 50_000);
$t->start_nginx($t->selling_http('location /files/ { bitcache on; bitcache_confirmations 1; }'));

# a relay on a free port: forwards each request to the node, re-encodes the reply
sub start_relay {
    my ($layout) = @_;
    my $port = BcTest::free_port();
    my $srv = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $port, Listen => 16,
                                    ReuseAddr => 1) or die "relay: $!";
    my $pid = fork // die;
    if ($pid) {
        close $srv;
        $t->{pids}{"relay-$layout"} = $pid;
        return "http://127.0.0.1:$port/";
    }
    $SIG{TERM} = sub { POSIX::_exit(0) };     # stopped by the harness: not a failure
    my $ua = HTTP::Tiny->new(timeout => 60, keep_alive => 1);
    while (my $c = $srv->accept) {
        local $/ = "\r\n";
        my ($len, %h) = (0);
        my $line = <$c> // next;
        while (defined(my $l = <$c>)) {
            last if $l eq "\r\n";
            $h{lc $1} = $2 if $l =~ /^([^:]+):\s*(.*?)\r\n$/;
        }
        read($c, my $body, $h{'content-length'} || 0);
        my $r = $ua->request('POST', $t->node_url, {
            headers => { 'Content-Type' => 'application/json',
                         Authorization => $h{authorization} // '' },
            content => $body });
        my $out = $r->{content};
        if (my $j = eval { JSON::PP->new->allow_nonref->decode($out) }) {
            if ($layout eq 'sorted') {
                $out = JSON::PP->new->canonical->pretty->escape_slash->encode($j);
            } else {
                my $res = JSON::PP->new->allow_nonref->encode($j->{result});
                $out = qq({ "result" : $res , "error" : )
                     . JSON::PP->new->allow_nonref->encode($j->{error}) . qq( , "id" : $j->{id} }\n);
            }
        }
        print $c "HTTP/1.1 $r->{status} OK\r\nContent-Type: application/json\r\n"
               . 'Content-Length: ' . length($out) . "\r\nConnection: close\r\n\r\n$out";
        close $c;
    }
    exit 0;
}

my %rpc = map { ($_ => start_relay($_)) } qw(sorted spaced);
my $bad = HTTP::Tiny->new->request('POST', $rpc{sorted}, {
    headers => { 'Content-Type' => 'application/json',
                 Authorization => 'Basic ' . MIME::Base64::encode_base64("x:$BcTest::NODE_KEY", '') },
    content => '{"method":"getblock","params":["00",false],"id":7}' });
like($bad->{content}, qr/^\{\n\s+"error" : \{/, 'the relay sorts and pretty-prints (error first)');

for my $layout (qw(sorted spaced)) {
    my $name = "w-$layout";
    # one watcher at a time, each starting afresh at the node's tip
    $t->redis('DEL', 'bitcache:watcher:tip', 'bitcache:watcher:lease');
    $t->start_watcher(name => $name, rpc => $rpc{$layout}, poll => 100);
    my $inv = $t->new_invoice('/files/book.pdf');
    $t->send_sats($inv->{address}, 12_345);
    ok(BcTest::wait_until(sub { ($t->invoice($inv->{id})->{state} // '') eq 'seen' }, 20),
       "$layout: seen in the mempool (getrawtransaction)") or diag $t->watcher_log($name);
    $t->mine(1);
    ok(BcTest::wait_until(sub { ($t->invoice($inv->{id})->{state} // '') eq 'paid' }, 20),
       "$layout: paid in a block (getblock)") or diag $t->watcher_log($name);
    my $tok = BcTest::wait_until(sub { $t->invoice_status($inv->{id})->{token} }, 20);
    is($t->get("/files/book.pdf?bitcache_token=$tok")->{content}, $book, "$layout: the file downloads");
    like($t->watcher_log($name), qr/block \d+ [0-9a-f]{64}: 2 transactions/, "$layout: blocks parsed");
    unlike($t->watcher_log($name), qr/not a (block|transaction) in hex|not a hex string/,
           "$layout: no reply misread");
    $t->stop_watcher($name);
}

$t->check_log_clean;
done_testing;
