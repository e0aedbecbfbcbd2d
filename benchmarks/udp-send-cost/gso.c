// Per-datagram CPU cost of UDP multicast sends on loopback (ttl 0, IP_MULTICAST_LOOP, one member
// joined), one send(2) per datagram or one UDP_SEGMENT (GSO) send per N datagrams, on CPU 1.
// Issue 17 evidence (benchmarks/RESULTS.md). Build: gcc -O2 -o gso gso.c
// Run: ./gso SEGMENTS_PER_SEND [DATAGRAMS [READ]]   (READ 0: the member does not read while sending;
// NOJOIN=1: no member at all)
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/socket.h>
#include <sched.h>
#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec*1e9+t.tv_nsec;}
static double cpu(){struct timespec t;clock_gettime(CLOCK_THREAD_CPUTIME_ID,&t);return t.tv_sec*1e9+t.tv_nsec;}
int main(int argc,char**argv){
  int seg=1400; int per=argc>1?atoi(argv[1]):1; int total=argc>2?atoi(argv[2]):200000; int rd=argc>3?atoi(argv[3]):1;
  cpu_set_t s;CPU_ZERO(&s);CPU_SET(1,&s);sched_setaffinity(0,sizeof s,&s);
  int r=socket(AF_INET,SOCK_DGRAM,0); int one=1; setsockopt(r,SOL_SOCKET,SO_REUSEADDR,&one,4);
  int big=64<<20; setsockopt(r,SOL_SOCKET,SO_RCVBUFFORCE,&big,4);
  struct sockaddr_in a={0};a.sin_family=AF_INET;a.sin_port=htons(45678);a.sin_addr.s_addr=inet_addr("239.254.1.2");
  if(bind(r,(void*)&a,sizeof a))perror("bind");
  struct ip_mreq m;m.imr_multiaddr.s_addr=inet_addr("239.254.1.2");m.imr_interface.s_addr=inet_addr("127.0.0.1");
  if(!getenv("NOJOIN") && setsockopt(r,IPPROTO_IP,IP_ADD_MEMBERSHIP,&m,sizeof m))perror("join");
  int w=socket(AF_INET,SOCK_DGRAM,0); struct in_addr ifa;ifa.s_addr=inet_addr("127.0.0.1");
  setsockopt(w,IPPROTO_IP,IP_MULTICAST_IF,&ifa,sizeof ifa); int ttl=0; setsockopt(w,IPPROTO_IP,IP_MULTICAST_TTL,&ttl,4);
  setsockopt(w,IPPROTO_IP,IP_MULTICAST_LOOP,&one,4); int sb=8<<20; setsockopt(w,SOL_SOCKET,SO_SNDBUFFORCE,&sb,4);
  if(connect(w,(void*)&a,sizeof a))perror("connect");
  char*buf=calloc(1,65536);
  if(per>1){int g=seg; if(setsockopt(w,SOL_UDP,UDP_SEGMENT,&g,4))perror("UDP_SEGMENT");}
  double t0=now(),c0=cpu(); long sent=0, rcvd=0; char rb[2048];
  for(int i=0;i<total/per;i++){
    ssize_t n=send(w,buf,seg*per,0); if(n<0){perror("send");break;} sent+=per;
    if(rd && (i&15)==0) while(recv(r,rb,sizeof rb,MSG_DONTWAIT)>0) rcvd++;
  }
  double c1=cpu(),t1=now();
  while(recv(r,rb,sizeof rb,MSG_DONTWAIT)>0) rcvd++;
  printf("per=%d datagrams=%ld received=%ld  cpu/datagram=%.0f ns wall/datagram=%.0f ns\n",per,sent,rcvd,(c1-c0)/sent,(t1-t0)/sent);
}
